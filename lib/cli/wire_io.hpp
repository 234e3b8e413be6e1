// The tools' wire edge: what they read (JSON Lines of logical messages or wire lines, pcap and
// pcapng captures, raw wire messages) and how a message is printed and captured in the binding the
// user chose. The role engines only ever see logical messages (msg::Message); this layer converts
// between them and every form of input and output, each binding's through its codec (JSON's too).
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "capture/capture.hpp"
#include "codecs/codecs.hpp"
#include "codecs/edge.hpp"
#include "core/bytes.hpp"
#include "core/error.hpp"
#include "flow/state.hpp"
#include "msg/message.hpp"
#include "wire/codec.hpp"

namespace kd::cli {

// One unit of input: a line of text, a captured packet, or a whole raw wire message.
struct InputItem {
  enum class Kind { line, packet, raw } kind = Kind::line;
  std::string line;
  capture::Packet packet;
  Bytes raw;
};

// Sniffs its input (a path, or "-" for standard input): a pcap or pcapng file is read frame by
// frame through the capture layer; anything else is JSON Lines, or, when allow_raw is set and the
// first byte that is not white space is not '{', one raw wire message.
class Input {
public:
  // options: how the capture layer reads a capture (capture_options() below).
  Input(const std::string& path, bool allow_raw, capture::Options options = {});  // throws IoError
  ~Input();
  Input(const Input&) = delete;
  Input& operator=(const Input&) = delete;
  bool next(InputItem& item);  // throws IoError on a damaged capture
  // True when the next line can be read without waiting for a writer: a regular file, or bytes
  // already read ahead. A tool makes its state durable and prints its answers before it waits.
  bool ready() const;
  bool is_capture() const { return reader_ != nullptr; }
  const capture::Stats* capture_stats() const;

private:
  std::string path_;
  std::FILE* file_ = nullptr;
  std::string prefix_;  // bytes sniffed from standard input, to be read again
  std::unique_ptr<capture::Reader> reader_;
  bool raw_ = false, done_ = false;
  bool read_line(std::string& line);
  void throw_if_failed() const;
};

// WireEdge and its options are the codecs' (codecs/edge.hpp): the live services use them too.
using codecs::check_pcap_out;
using codecs::DecodeAs;
using codecs::default_addrs;
using codecs::WireEdge;
using codecs::WireOptions;

// The RADIUS shared secret: the first line of the file (1 to 128 bytes, line end removed). Throws
// IoError when the file is missing or the line is empty or too long; warns on stderr (naming tool)
// when group or others may read the file. The secret itself is never printed.
std::string read_radius_secret(const std::string& path, std::string_view tool);

// A keystore file (kd-auc(1), KEYSTORE), for every tool that reads one: throws IoError when it is
// missing, unreadable or refused by json::decode_keystore; warns on stderr (naming tool) when group
// or others may read it.
flow::Keystore read_keystore(const std::string& path, std::string_view tool);

// Parses "ROLE=IP" into o.addr; a message on failure (quoting arg as it is: the printer escapes it).
std::optional<std::string> parse_addr(std::string_view arg, WireOptions& o);
// Parses "udp.port==PORT,BINDING" (or tcp.port) into o.decode_as; a message on failure (the same).
std::optional<std::string> parse_decode_as(std::string_view arg, WireOptions& o);
// Once the other wire options are resolved: why a mapping names a binding that tool (speaking the
// AuC link or not) does not read with these options, or nullopt.
std::optional<std::string> check_decode_as(const WireOptions& o, std::string_view tool, bool auc_link);
// How a capture is read under o: a TCP stream on a mapped port is framed as its binding is
// (SIP by Content-Length, H.248 by TPKT).
capture::Options capture_options(const WireOptions& o);

}  // namespace kd::cli
