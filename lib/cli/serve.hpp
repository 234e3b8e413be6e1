// Live mode's command lines (kd-live(7)): `serve` of kd-proxy, kd-switch and kd-auc, and
// `kd-term register`. The tool loads its role as a filter does (Session in tools.cpp); this part
// puts it behind lib/net's transaction layer and event loop.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "cli/wire_io.hpp"
#include "flow/roles.hpp"
#include "msg/message.hpp"

namespace CLI {
class App;
}
namespace kd::engine {
class RoleEngine;
}
namespace kd::net {
struct Endpoint;  // lib/net stays a private dependency of cli: its callers include net/endpoint.hpp
class Loop;
}

namespace kd::cli {

struct LiveOptions {
  std::vector<std::string> listen;  // --listen ENDPOINT (serve)
  std::vector<std::string> peers;   // --peer ROLE=ENDPOINT
  std::string events = "all";       // --events all|errors|none (serve)
  std::string retransmit;           // --retransmit SPEC
};

// The options of `serve` (on its subcommand) and of `kd-term register`.
void add_serve_options(CLI::App& serve, LiveOptions& o);
void add_register_options(CLI::App& reg, LiveOptions& o);
// What live mode refuses of the filters' command line: an input file, --pcap-out, --decode-as.
// Throws UsageError naming the subcommand.
void check_live_command_line(std::string_view subcommand, const std::string& input, const WireOptions& w);

// The role a live command runs, loaded by the tool.
struct LiveContext {
  std::string tool;
  msg::Role role;
  engine::RoleEngine& engine;
  WireOptions wire;
  bool show_key = false;
  bool fixed_clock = false;     // --now: the roles' clock stays where it was set
  std::function<void()> save;   // makes the role's state durable (the tools' atomic save)
  std::string state_path;       // --state; serve keeps its response journal beside it
};

// Exit statuses of kd-term register besides the tools' own (kd-term(1)).
inline constexpr int kExitNoAnswer = 4;

// The step that answers a request on the same link ("s1" -> "s6"), and the request an answer ends;
// empty when there is none (kd-live(7), TRANSACTIONS).
std::string_view answer_to(std::string_view request);
std::string_view request_of(std::string_view answer);

// A datagram as a live role reads it: a JSON object, or a wire message of a binding of edge, refused
// when edge speaks its step as JSON. step: its step's name when known; wire_bytes: the signaling
// wire message, for the engine (RoleEngine::feed_message); used: the binding; text: it was JSON.
// answered: the request it answers as this role sent it, when known (WireEdge::from_raw).
Result<msg::Message> decode_datagram(const WireEdge& edge, ByteView data, std::string& step, Bytes& wire_bytes,
                                     wire::Binding& used, bool& text, ByteView answered = {});

// w, the signaling requests of role (the terminal's, the proxy's towards its switch) naming the
// transport of the --peer they go to (SIP's Via, RFC 3261 18.1.1); a malformed peer is left to
// the caller's check.
WireOptions with_request_transport(WireOptions w, msg::Role role, const std::vector<std::string>& peers);
// The signaling requests sent on socket (the terminal's, the proxy's towards its switch) name where
// they go out from in SIP's Via (WireEdge::set_sent_by), so that the answer finds that port
// (kd-live(7), "Transaction identities"). A socket without such an address leaves edge as it was.
void name_sent_by(WireEdge& edge, const net::Loop& loop, std::uint32_t socket);
// The ENDPOINT text of option ("--listen", "--peer switch="), carrying binding. Throws UsageError
// when it is malformed, or tcp: for a binding that travels over UDP only.
net::Endpoint live_endpoint(std::string_view option, const std::string& text, wire::Binding binding);

// kd-term register and load: exactly one --peer, proxy= with --via, else switch=. Throws UsageError.
void check_term_peer(std::string_view subcommand, const LiveOptions& o, const flow::StartParams& start);

// Runs the role as a UDP service until SIGINT or SIGTERM: kExitOk. Throws UsageError (bad
// endpoints or peers) or IoError (a socket that cannot be bound, a state that cannot be saved).
int serve(const LiveOptions& o, LiveContext& ctx);
// One registration over the network: kExitOk registered, kExitRejected refused, kExitNoAnswer.
int register_once(const LiveOptions& o, LiveContext& ctx, const flow::StartParams& start);

}  // namespace kd::cli
