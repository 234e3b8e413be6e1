// kd-decode: prints every KD message of a capture, a JSON Lines file or a raw wire message as one
// JSON line, and with --keys verifies the registrations it sees (kd-decode(1)).
#include <algorithm>
#include <array>
#include <charconv>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include <sys/stat.h>

#include <CLI/CLI.hpp>

#include "cli/io.hpp"
#include "cli/options.hpp"
#include "cli/tools.hpp"
#include "cli/wire_io.hpp"
#include "encode.hpp"
#include "json/line.hpp"
#include "json/message.hpp"
#include "json/record.hpp"
#include "ladder.hpp"
#include "net/retransmit.hpp"
#include "verify/retransmission.hpp"
#include "verify/verifier.hpp"
#include "wire/radius.hpp"

namespace kd::tools {

using namespace kd::cli;

namespace {

// --ladder-svg FILE is written beside FILE and renamed over it: FILE must be a regular file or
// absent, since a symbolic link (/dev/stdout), a device (/dev/null), a FIFO or a socket would be
// replaced by the picture. Checked before anything is read, and again just before the rename.
void check_svg_target(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    // Absent: its directory must be there, or the picture could not be written after all the rest.
    const auto slash = path.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
    if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
      throw IoError{"--ladder-svg: cannot create " + path + ": " + dir + " is not a directory"};
    return;
  }
  const char* why = S_ISREG(st.st_mode)   ? nullptr
                    : S_ISDIR(st.st_mode) ? "Is a directory"
                    : S_ISLNK(st.st_mode) ? "a symbolic link: name the file itself"
                                          : "not a regular file (a device, a FIFO or a socket): name a file";
  if (why) throw IoError{"--ladder-svg: cannot replace " + path + ": " + why};
}


// "ip:port" ("[ip]:port" for IPv6) into out, reusing its buffer.
void endpoint(std::string& out, const std::string& ip, std::uint16_t port) {
  out.clear();
  const bool v6 = ip.find(':') != std::string::npos;
  if (v6) out += '[';
  out += ip;
  if (v6) out += ']';
  out += ':';
  char digits[8];
  auto r = std::to_chars(digits, digits + sizeof digits, port);
  out.append(digits, r.ptr);
}

// "seconds.nanoseconds" (nine digits) into out, reusing its buffer.
void capture_time(std::string& out, std::int64_t sec, std::uint32_t nsec) {
  char buf[40];
  auto r = std::to_chars(buf, buf + 24, static_cast<long long>(sec));
  *r.ptr++ = '.';
  for (int i = 8; i >= 0; --i, nsec /= 10) r.ptr[i] = static_cast<char>('0' + nsec % 10);
  out.assign(buf, r.ptr + 9);
}

// One input item on its way from the reading thread to the checking and printing one. A captured
// packet is decoded by whichever thread gets to its batch first (Pipeline); lines and raw messages
// are decoded as they are read.
struct Item {
  bool pending = false;     // a packet not decoded yet
  capture::Packet packet;   // the packet, while pending (its buffers are reused)
  Bytes answered;           // an Access-Challenge's Access-Request, earlier in the capture (RadiusRequests)
  bool skip = false;        // decoded: a packet of no binding kd-decode reads (counted, not printed)
  json::DecodedRecord rec;  // rec.message and rec.checks are set by the printing thread
  std::optional<msg::Message> m;
  std::optional<std::uint64_t> time;  // capture time, UNIX seconds
  std::string event;        // an event line of a tool's transcript, for the ladder (counted as skipped)
  std::optional<wire::Provisional> provisional;  // decoded: a provisional answer (rec has its packet's details)
  std::optional<std::uint32_t> transaction;      // decoded: the message's id, in a binding with provisional answers
  // Decoded, a UDP datagram: how long a copy of it is a retransmission (0: not a datagram), its
  // capture time and identity (verify::Retransmissions).
  std::uint64_t window_ms = 0, time_ms = 0;
  verify::FrameDigest digest;
  Bytes scratch;  // frame_digest's
};

// How long after a datagram the same bytes between the same endpoints are its retransmission: as
// long as the binding's client may resend it and its server answers copies from its cache, the
// longest a live service takes a copy for the same request (kd-live(7), TRANSACTIONS, TIMERS).
// Later, the same bytes are a replay, verified as a new message.
std::uint64_t retransmission_window_ms(wire::Binding b) {
  const net::Timers t = net::default_timers(b);
  return t.timeout_ms + t.keep_response_ms;
}

// The last few values by key, the oldest forgotten first once there are kMax (memory stays flat
// however long the capture).
template <typename V>
class RecentByKey {
public:
  static constexpr std::size_t kMax = 4096;
  void put(std::string key, V v) {
    if (auto [it, added] = by_key_.insert_or_assign(key, std::move(v)); added) order_.push_back(std::move(key));
    if (order_.size() > kMax) {
      by_key_.erase(order_.front());
      order_.pop_front();
    }
  }
  const V* find(const std::string& key) const {
    auto it = by_key_.find(key);
    return it == by_key_.end() ? nullptr : &it->second;
  }

private:
  std::map<std::string, V> by_key_;
  std::deque<std::string> order_;
};

// A RADIUS client chooses each Access-Request's Identifier and Request Authenticator (RFC 2865
// section 3; kd's live switch draws them, kd-live(7)), and the Access-Challenge answering it is keyed
// by them: the reading thread pairs each Access-Challenge with the last Access-Request before it of
// the same Identifier between the same two endpoints (the other way round), so that it is verified
// against that request. Memory: at most kMax requests, the oldest forgotten first.
class RadiusRequests {
public:
  // An Access-Request is remembered; for an Access-Challenge, answered gets its request, if any.
  void see(const capture::Packet& p, Bytes& answered) {
    answered.clear();
    const Bytes& b = p.payload;
    if (p.transport != capture::Transport::udp || b.size() < wire::radius::kMinPacket) return;
    if (b[0] == wire::radius::access_request) {
      requests_.put(key(p.src_ip, p.src_port, p.dst_ip, p.dst_port, b[1]), b);
    } else if (b[0] == wire::radius::access_challenge) {
      if (const Bytes* request = requests_.find(key(p.dst_ip, p.dst_port, p.src_ip, p.src_port, b[1])))
        answered = *request;
    }
  }

private:
  static std::string key(const std::string& client, std::uint16_t cport, const std::string& server,
                         std::uint16_t sport, std::uint8_t id) {
    return client + ' ' + std::to_string(cport) + ' ' + server + ' ' + std::to_string(sport) + ' ' + std::to_string(id);
  }
  RecentByKey<Bytes> requests_;
};

// A provisional answer names its request by the transaction id it went under (MGCP's transaction
// id, H.248's TransactionID, RAS's requestSeqNum): the printing thread pairs it with the last
// message of that id between the same two endpoints the other way, to name the step it answers.
class TransactionSteps {
public:
  void sent(const std::string& src, const std::string& dst, std::uint32_t transaction, std::string_view step) {
    steps_.put(key(src, dst, transaction), step);
  }
  // The step of the request a provisional answer from src to dst answers, or "".
  std::string_view answered(const std::string& src, const std::string& dst, std::uint32_t transaction) const {
    const std::string_view* step = steps_.find(key(dst, src, transaction));
    return step ? *step : std::string_view();
  }

private:
  static std::string key(const std::string& src, const std::string& dst, std::uint32_t transaction) {
    return src + ' ' + dst + ' ' + std::to_string(transaction);
  }
  RecentByKey<std::string_view> steps_;  // spec names: literals
};

// kd-decode runs in two threads: the caller's reads the input, a second one checks and prints, in
// input order. Decoding the packets is shared: each batch is decoded by the printer when it comes
// to it, unless the reader, which otherwise would wait for an empty batch, has already taken it.
// Batches are reused from a bounded set, so memory stays flat however large the input, and the
// items' strings keep their buffers from batch to batch.
class Pipeline {
public:
  static constexpr std::size_t kBatch = 256, kBatches = 8;
  struct Batch {
    std::vector<Item> items = std::vector<Item>(kBatch);
    std::size_t used = 0;
    enum class State : std::uint8_t { pending, decoding, ready } state = State::ready;
  };

  explicit Pipeline(std::function<void(Batch&)> decode) : decode_(std::move(decode)) {}

  // Reading side: an empty batch. While none is free it decodes a waiting batch (the newest, as
  // the printer takes the oldest) rather than wait.
  Batch* take_empty() {
    std::unique_lock lock(mu_);
    while (true) {
      if (!empty_.empty()) {
        Batch* b = empty_.back();
        empty_.pop_back();
        b->used = 0;
        return b;
      }
      if (pool_.size() < kBatches) {
        pool_.push_back(std::make_unique<Batch>());
        return pool_.back().get();
      }
      if (!help(lock)) cv_.wait(lock);
    }
  }
  void push(Batch* b, bool decoded) {
    std::lock_guard lock(mu_);
    b->state = decoded ? Batch::State::ready : Batch::State::pending;
    full_.push_back(b);
    cv_.notify_all();
  }
  void close() {
    std::lock_guard lock(mu_);
    closed_ = true;
    cv_.notify_all();
  }
  // Printing side: the oldest batch, decoded (by this thread if nobody has begun it), or nullptr
  // once the reading side closed and every batch is taken.
  Batch* take_ready() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !full_.empty() || closed_; });
    if (full_.empty()) return nullptr;
    Batch* b = full_.front();
    full_.pop_front();
    if (b->state == Batch::State::pending) {
      b->state = Batch::State::decoding;
      lock.unlock();
      decode_(*b);
      lock.lock();
      b->state = Batch::State::ready;
    }
    cv_.wait(lock, [&] { return b->state == Batch::State::ready; });
    return b;
  }
  void give_back(Batch* b) {
    std::lock_guard lock(mu_);
    empty_.push_back(b);
    cv_.notify_all();
  }

private:
  // Decodes the newest waiting batch, if there is one; called with the lock held, returns with it.
  bool help(std::unique_lock<std::mutex>& lock) {
    for (auto it = full_.rbegin(); it != full_.rend(); ++it) {
      Batch* b = *it;
      if (b->state != Batch::State::pending) continue;
      b->state = Batch::State::decoding;
      lock.unlock();
      decode_(*b);
      lock.lock();
      b->state = Batch::State::ready;
      cv_.notify_all();
      return true;
    }
    return false;
  }

  std::function<void(Batch&)> decode_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Batch>> pool_;
  std::deque<Batch*> full_;
  std::vector<Batch*> empty_;
  bool closed_ = false;
};

int decode_main(int argc, char** argv) {
  CLI::App app{"kd-decode: decode and verify KD messages in captures, JSON Lines or raw wire messages"};
  init_app(app);
  std::vector<std::string> inputs;
  std::string binding = "json", keys_path, secret_file, svg_path;
  std::uint64_t skew = 300;
  bool check = false, ladder = false, show_key = false;
  app.add_option("input", inputs, "pcap, pcapng, JSON Lines or raw wire message files ('-': standard input, the default)");
  add_binding(app, binding, "the binding of a raw wire message (default: each binding is tried)");
  add_keys(app, keys_path, "keystore (JSON): verify verification words, sealed keys and MACs");
  add_radius_secret_file(app, secret_file,
                         "RADIUS shared secret: verify the AuC link (without it RADIUS is decoded unverified)");
  add_skew(app, skew, "timestamp window in seconds for the checks (default 300)");
  app.add_flag("--check", check, "exit 1 when a message does not decode, a check fails or a registration is incomplete; 4 when no KD message was found");
  app.add_flag("--ladder", ladder, "print a text sequence diagram instead of JSON lines");
  refuse_empty(app.add_option("--ladder-svg", svg_path, "write the sequence diagram as an SVG picture to this file"),
               "a file name");
  app.add_flag("--show-key", show_key, "print recovered session keys in registration lines (with --keys)");
  std::vector<std::string> decode_as;
  add_decode_as(app, decode_as);
  EncodeOptions enc;  // the other direction (kd-decode(1), ENCODING)
  refuse_empty(app.add_option("--encode", enc.binding,
                              "encode JSON messages into wire lines of this binding (" +
                                  wire::binding_names({wire::Carrier::signaling, wire::Carrier::auc_link}) + ")"),
               "a binding");
  refuse_empty(app.add_option("--pcap-out", enc.pcap_out,
                              "with --encode: append a frame per encoded message to this pcap file"),
               "a file name");
  add_addr(app, enc.addrs, "with --encode: IP address of a role in --pcap-out frames, ROLE=IP (repeatable)");
  add_number(app, "--now", enc.now, {0, kMaxNow}, "with --encode: the frames' time, UNIX seconds (default: the clock)");
  if (!parse_command_line(app, "kd-decode", argc, argv)) return kExitOk;
  if (!enc.binding.empty() || !enc.pcap_out.empty() || !enc.addrs.empty() || enc.now) {
    for (const char* name : {"--check", "--ladder", "--ladder-svg", "--keys", "--show-key", "--skew", "--binding", "--decode-as"})
      if (app.count(name) > 0) enc.conflicts.emplace_back(name);
    enc.inputs = inputs;
    enc.secret_file = secret_file;
    return encode_main(enc);
  }
  if (inputs.empty()) inputs.push_back("-");
  WireOptions wo;
  auto b = wire::parse_binding(binding);
  if (!b)
    throw UsageError("--binding: unknown binding \"" + binding + "\" (" +
                     wire::binding_names({wire::Carrier::logical, wire::Carrier::signaling, wire::Carrier::auc_link}) +
                     ")");
  wo.binding = *b;
  wo.radius_link = false;
  for (const auto& d : decode_as)
    if (auto why = parse_decode_as(d, wo)) throw UsageError(*why);
  wo.radius_unverified = true;  // without the secret RADIUS is still decoded, its authenticators unverified

  // Output is gathered in a buffer and written in large pieces.
  std::string out;
  auto flush = [&out] {
    write_stdout(out);
    out.clear();
  };
  try {
    if (!svg_path.empty()) check_svg_target(svg_path);
    flow::Keystore keys;
    if (!keys_path.empty()) keys = read_keystore(keys_path, "kd-decode");
    if (!secret_file.empty()) wo.radius_secret = read_radius_secret(secret_file, "kd-decode");
    if (auto why = check_decode_as(wo, "kd-decode", true)) throw UsageError(*why);
    const bool no_secret = wo.radius_secret.empty();
    WireEdge edge(wo, std::nullopt);
    verify::Verifier verifier(keys_path.empty() ? nullptr : &keys, skew);
    json::DecodeSummary sum;      // the printing thread's counts
    json::DecodeSummary decoded;  // the decoding thread's: frames and skipped
    Ladder drawing(ladder ? &out : nullptr, !svg_path.empty());

    auto report = [&](const verify::RegistrationReport& r) {
      ++sum.registrations;
      if (r.completed) ++sum.completed;
      if (ladder || !svg_path.empty()) drawing.registration(r);
      if (!ladder) {
        out += json::encode_registration(r, show_key);
        out += '\n';
      }
    };
    std::vector<verify::Check> checks;
    std::vector<verify::RegistrationReport> done;
    TransactionSteps transactions;  // the printer's
    // A provisional answer: a line of its own, no step, never an error (kd-decode(1), OUTPUT).
    auto print_provisional = [&](Item& item) {
      ++sum.provisional;
      const wire::Provisional& p = *item.provisional;
      const json::ProvisionalAnswer a{p.element, p.transaction,
                                      transactions.answered(item.rec.src, item.rec.dst, p.transaction), p.delay_ms};
      if (ladder || !svg_path.empty()) drawing.provisional(a.element, a.answers, item.rec.frame);
      if (!ladder) {
        json::encode_provisional(item.rec, a, out);
        out += '\n';
      }
    };
    verify::Retransmissions retransmissions;  // the printer's
    // A datagram sent again: a line of its own, not verified again, never an error (kd-decode(1), OUTPUT).
    auto print_retransmission = [&](Item& item, const verify::Retransmissions::Original& o) {
      ++sum.retransmissions;
      if (ladder || !svg_path.empty()) drawing.retransmission(o.step, o.frame, item.rec.frame);
      if (!ladder) {
        json::encode_retransmission(item.rec, o.frame, o.step, out);
        out += '\n';
      }
    };
    auto print = [&](Item& item) {
      if (!item.event.empty()) return drawing.event(item.event);
      if (item.window_ms) {
        const std::string_view step = item.m ? msg::spec_of(*item.m).name : std::string_view();
        if (auto o = retransmissions.see(item.digest, item.rec.frame, item.time_ms, item.window_ms, step))
          return print_retransmission(item, *o);
      }
      if (item.provisional) return print_provisional(item);
      json::DecodedRecord& rec = item.rec;
      checks.clear();
      done.clear();
      rec.message = item.m ? &*item.m : nullptr;
      rec.unverified = {};
      if (rec.message && no_secret && rec.binding == "radius")
        rec.unverified = wire::radius::unverified_without_secret(msg::spec_of(*rec.message));
      if (rec.message) {
        ++sum.messages;
        if (item.transaction) transactions.sent(rec.src, rec.dst, *item.transaction, msg::spec_of(*rec.message).name);
        if (!rec.unverified.empty()) ++sum.unverified;
        verifier.observe(*rec.message, item.time, checks, done, rec.unverified);
        for (const auto& c : checks) sum.failed_checks += c.ok ? 0 : 1;
      } else {
        ++sum.errors;
      }
      rec.checks = &checks;
      if (ladder || !svg_path.empty()) {
        if (rec.message) drawing.message(*rec.message, rec.binding, checks);
        else drawing.error(rec.frame, *rec.error);
      }
      if (!ladder) {
        json::encode_decoded(rec, out);
        out += '\n';
      }
      for (const auto& r : done) report(r);
      if (out.size() >= (1u << 16)) {
        write_stdout(out);
        out.clear();
      }
    };

    // A captured packet's decoding, in whichever thread gets to its batch (WireEdge::decode_packet
    // counts nothing and the codecs keep no state, so two threads may decode at once).
    auto decode_item = [&edge](Item& it) {
      const capture::Packet& p = it.packet;
      wire::Binding used = wire::Binding::json;
      WireEdge::Skip why = WireEdge::Skip::none;
      if (!it.m) it.m.emplace();  // decoded into the Message the item had: its buffers are reused
      auto r = edge.decode_packet_into(p, *it.m, &used, &why, it.answered);
      // A request paired by its Identifier and addresses alone may be another client's: then the
      // Identifier and Request Authenticator derived from the fields (kd's offline s3) are tried.
      if (r && !*r && !it.answered.empty()) r = edge.decode_packet_into(p, *it.m, &used, &why);
      it.pending = false;
      if (!r && why == WireEdge::Skip::provisional) it.provisional = wire::read_provisional(used, p.payload);
      if (!r && !it.provisional) {
        it.skip = true;
        return;
      }
      it.rec.frame = p.frame;
      if (!it.rec.time) it.rec.time.emplace();
      capture_time(*it.rec.time, p.ts_sec, p.ts_nsec);
      if (p.ts_sec >= 0) it.time = static_cast<std::uint64_t>(p.ts_sec);
      endpoint(it.rec.src, p.src_ip, p.src_port);
      endpoint(it.rec.dst, p.dst_ip, p.dst_port);
      it.rec.transport = p.transport == capture::Transport::udp ? "udp" : "tcp";
      it.rec.binding = wire::binding_name(used);
      if (p.transport == capture::Transport::udp) {
        it.window_ms = retransmission_window_ms(used);
        it.time_ms = p.ts_sec < 0 ? 0 : static_cast<std::uint64_t>(p.ts_sec) * 1000 + p.ts_nsec / 1000000;
        it.digest = verify::frame_digest(it.rec.src, it.rec.dst, p.payload, it.scratch);
      }
      if (it.provisional) {
        it.m.reset();
      } else if (!*r) {
        it.m.reset();
        it.rec.error = r->error();
      } else if (wire::has_provisional(used)) {
        it.transaction = wire::request_transaction(used, p.payload);
      }
    };
    Pipeline pipe([&](Pipeline::Batch& bt) {
      for (std::size_t k = 0; k < bt.used; ++k)
        if (bt.items[k].pending) decode_item(bt.items[k]);
    });
    std::uint64_t foreign = 0;  // packets of no binding, counted by the printer
    RadiusRequests radius_requests;  // the reader's
    std::thread printer([&] {
      while (auto* batch = pipe.take_ready()) {
        for (std::size_t k = 0; k < batch->used; ++k) {
          // A few datagrams ahead, start loading where their retransmission lookup begins.
          if (const Item& ahead = batch->items[std::min(k + 4, batch->used - 1)]; ahead.window_ms && !ahead.skip)
            retransmissions.prefetch(ahead.digest);
          if (batch->items[k].skip) ++foreign;
          else print(batch->items[k]);
        }
        pipe.give_back(batch);
      }
    });
    // Whatever happens while reading, the printer first prints everything read before it.
    Pipeline::Batch* batch = pipe.take_empty();
    bool batch_pending = false;
    auto finish_printer = [&] {
      if (batch && batch->used > 0) pipe.push(batch, !batch_pending);
      batch = nullptr;
      pipe.close();
      printer.join();
    };
    auto next_item = [&]() -> Item& {
      if (batch->used == Pipeline::kBatch) {
        pipe.push(batch, !batch_pending);
        batch = pipe.take_empty();
        batch_pending = false;
      }
      Item& it = batch->items[batch->used];
      it.pending = it.skip = false;
      it.event.clear();
      it.provisional.reset();
      it.transaction.reset();
      it.window_ms = 0;
      // (rec.time keeps its buffer: a packet's decoding sets it, a line or a raw message clears it)
      it.rec.src.clear();
      it.rec.dst.clear();
      it.rec.transport.clear();
      it.rec.error.reset();
      it.rec.message = nullptr;
      it.rec.checks = nullptr;
      it.time.reset();  // it.m is set by whoever decodes the item (a packet's is decoded into)
      return it;
    };
    auto commit = [&] { ++batch->used; };
    // A line's or a raw message's item, decoded here: no capture time; the message or the error.
    auto commit_decoded = [&](Item& it, Result<msg::Message> r) {
      it.rec.time.reset();
      if (r) {
        it.m = std::move(*r);
      } else {
        it.m.reset();
        it.rec.error = r.error();
      }
      commit();
    };

    try {
      for (const auto& path : inputs) {
        Input in(path, true, capture_options(wo));
        InputItem input;
        std::uint64_t line_no = 0;
        while (in.next(input)) {
          if (input.kind == InputItem::Kind::line) {
            ++line_no;
            ++decoded.frames;
            if (json::string_field(input.line, "event")) {  // a tool's event line in a transcript
              ++decoded.skipped;
              if (ladder || !svg_path.empty()) {  // drawn under the tool that printed it
                next_item().event = input.line;
                commit();
              }
              continue;
            }
            Item& it = next_item();
            it.rec.frame = line_no;
            it.rec.binding = json::is_wire_line(input.line) ? json::string_field(input.line, "binding").value_or("?") : "json";
            commit_decoded(it, edge.from_line(input.line, nullptr));
          } else if (input.kind == InputItem::Kind::raw) {
            ++decoded.frames;
            Item& it = next_item();
            it.rec.frame = 1;
            wire::Binding used = wire::Binding::json;
            auto r = *b == wire::Binding::json ? edge.from_raw(input.raw, &used) : [&]() -> Result<msg::Message> {
              auto c = wire::make_codec(*b, {wo.radius_secret, wo.radius_unverified});
              if (!c) return err(Code::malformed, "--binding json is not a wire binding");
              used = *b;
              return c->decode(input.raw);
            }();
            it.rec.binding = r || *b != wire::Binding::json ? std::string(wire::binding_name(used)) : "unknown";
            commit_decoded(it, std::move(r));
          } else {
            Item& it = next_item();
            std::swap(it.packet, input.packet);  // the reader refills the item's old buffers
            radius_requests.see(it.packet, it.answered);
            it.pending = batch_pending = true;
            commit();
          }
        }
        if (const auto* st = in.capture_stats()) {
          decoded.frames += st->frames;
          decoded.truncated += st->truncated;
          decoded.skipped += st->skipped_non_ip + st->skipped_transport + st->skipped_other + st->bad_headers;
          if (const std::string lost = capture::describe_losses(*st); !lost.empty())
            std::cerr << "kd-decode: note: " << printable(path) << ": lost: " << lost << "\n";
        }
      }
    } catch (...) {
      finish_printer();
      throw;
    }
    finish_printer();
    sum.frames += decoded.frames;
    sum.truncated += decoded.truncated;
    sum.skipped += decoded.skipped + foreign;
    for (const auto& r : verifier.finish()) report(r);
    drawing.finish();
    if (!ladder) {
      out += json::encode_summary(sum);
      out += '\n';
    }
    flush();
    if (!svg_path.empty()) {
      check_svg_target(svg_path);
      try {
        write_file_atomic(svg_path, drawing.svg());
      } catch (const IoError& e) {  // written last: the message says which option's file failed
        throw IoError{"--ladder-svg: " + e.what};
      }
    }
    const bool bad = sum.errors > 0 || sum.failed_checks > 0 || sum.completed < sum.registrations;
    if (check && bad) return kExitRejected;
    if (check && sum.messages == 0 && sum.errors == 0) {
      // Passing would vouch for a capture of the wrong port, link type or snapshot length.
      std::cerr << "kd-decode: --check: nothing was verified: no KD message in the input (" << sum.frames
                << " frames or lines, " << sum.skipped << " skipped, " << sum.truncated << " truncated)\n";
      return kExitNothingVerified;
    }
    return kExitOk;
  } catch (...) {
    flush();  // what was decoded before the error is printed before it
    throw;
  }
}

}  // namespace

}  // namespace kd::tools

int main(int argc, char** argv) {
  return kd::cli::run_tool("kd-decode", [&] { return kd::tools::decode_main(argc, argv); });
}
