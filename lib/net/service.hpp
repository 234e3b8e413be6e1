// Live mode's services (kd-live(7)): `serve` of kd-proxy, kd-switch and kd-auc, and `kd-term
// register`. The tool loads its role as a filter does (Session in cli/tools.cpp) and parses the
// command line (cli/serve.hpp); this part puts the role behind the transaction layer and the event
// loop, and makes what it changes durable before it is sent.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "codecs/edge.hpp"
#include "core/bytes.hpp"
#include "core/error.hpp"
#include "flow/roles.hpp"
#include "msg/message.hpp"
#include "net/endpoint.hpp"
#include "wire/codec.hpp"

namespace kd::engine {
class RoleEngine;
}

namespace kd::net {

class Loop;

// Where a live run's lines go: cli provides it (it prints, and knows whether standard error is a
// terminal); net only says what happened. Each call carries whole lines, written at once.
class Report {
public:
  virtual ~Report() = default;
  // Lines for standard output (events, messages, the load summary), each ending in '\n'.
  virtual void out(std::string_view lines) = 0;
  // One line for standard error, after the tool's name: "note: ...", "error: ...", "no answer ...".
  virtual void diagnostic(std::string_view line) = 0;
  // kd-term load's progress (without the tool's name), and its end.
  virtual void progress(std::string_view line) = 0;
  virtual void progress_done() = 0;
};

// serve's group-commit window unless --commit-window says (kd-live(7), DURABILITY).
inline constexpr std::uint64_t kDefaultCommitWindowUs = 0;
// and the longest one --commit-window takes: a window delays every answer by up to its length.
inline constexpr std::uint64_t kMaxCommitWindowUs = 100000;

struct LiveOptions {
  std::vector<std::string> listen;  // --listen ENDPOINT (serve)
  std::vector<std::string> peers;   // --peer ROLE=ENDPOINT
  std::string events = "all";       // --events all|errors|none (serve)
  std::string retransmit;           // --retransmit SPEC
  std::uint64_t commit_window_us = kDefaultCommitWindowUs;  // --commit-window US (serve)
};

// The role a live command runs, loaded by the tool.
struct LiveContext {
  std::string tool;
  msg::Role role;
  engine::RoleEngine& engine;
  codecs::WireOptions wire;
  bool show_key = false;
  bool fixed_clock = false;     // --now: the roles' clock stays where it was set
  std::function<void()> save;   // makes the role's state durable (the tools' atomic save)
  std::string state_path;       // --state; serve keeps its response journal beside it
  Report* report = nullptr;     // set by cli before it runs the role
};

// How a live run ended; cli turns it into the exit status (kd-term(1)).
enum class End : std::uint8_t {
  ok,         // a service stopped by SIGINT or SIGTERM; a registration (every one of a load) done
  refused,    // a registration (one of a load) was refused
  no_answer,  // a registration got no answer in time, or was stopped by a signal
};

// The step that answers a request on the same link ("s1" -> "s6"), and the request an answer ends;
// empty when there is none (kd-live(7), TRANSACTIONS).
std::string_view answer_to(std::string_view request);
std::string_view request_of(std::string_view answer);

// A datagram as a live role reads it: a JSON object, or a wire message of a binding of edge, refused
// when edge speaks its step as JSON. step: its step's name when known; wire_bytes: the signaling
// wire message, for the engine (RoleEngine::feed_message); used: the binding; text: it was JSON.
// answered: the request it answers as this role sent it, when known (WireEdge::from_raw).
Result<msg::Message> decode_datagram(const codecs::WireEdge& edge, ByteView data, std::string& step, Bytes& wire_bytes,
                                     wire::Binding& used, bool& text, ByteView answered = {});

// w, the signaling requests of role (the terminal's, the proxy's towards its switch) naming the
// transport of the --peer they go to (SIP's Via, RFC 3261 18.1.1); a malformed peer is left to
// the caller's check.
codecs::WireOptions with_request_transport(codecs::WireOptions w, msg::Role role, const std::vector<std::string>& peers);
// The signaling requests sent on socket (the terminal's, the proxy's towards its switch) name where
// they go out from in SIP's Via (WireEdge::set_sent_by), so that the answer finds that port
// (kd-live(7), "Transaction identities"): over TCP, the connection each new request goes on
// (WireEdge::follow_sent_by; loop must outlive edge's encoding). A socket without such an address
// leaves edge as it was.
void name_sent_by(codecs::WireEdge& edge, Loop& loop, std::uint32_t socket);
// The ENDPOINT text of option ("--listen", "--peer switch="), carrying binding. Throws UsageError
// when it is malformed, or tcp: for a binding that travels over UDP only. Port 0 passes: where a
// peer may be at port 0 is the command line's to say (cli::check_peer_ports).
Endpoint live_endpoint(std::string_view option, const std::string& text, wire::Binding binding);
// o as role's live command line (serve, or kd-term register and load with role term) checked whole
// before the tool reads or creates a file: --events, --retransmit, every --listen and --peer
// endpoint (its host name resolved), the peer roles and those the role needs (kd-live(7)).
// Throws UsageError.
void check_live_options(const LiveOptions& o, msg::Role role, const codecs::WireOptions& w);

// Runs the role as a UDP service until SIGINT or SIGTERM: End::ok. Throws UsageError (bad
// endpoints or peers) or IoError (a socket that cannot be bound, a state that cannot be saved).
// o.peers as cli checked them (cli::check_peer_ports), as for run_registration and generate_load.
End run_service(const LiveOptions& o, LiveContext& ctx);
// One registration over the network: End::ok registered, End::refused, End::no_answer. o.peers as
// cli checked them (cli::check_term_peer).
End run_registration(const LiveOptions& o, LiveContext& ctx, const flow::StartParams& start);

}  // namespace kd::net
