#include "encode.hpp"

#include <ctime>
#include <iostream>
#include <map>

#include "cli/io.hpp"
#include "cli/tools.hpp"
#include "cli/wire_io.hpp"
#include "json/event.hpp"
#include "json/line.hpp"
#include "json/message.hpp"
#include "json/record.hpp"

namespace kd::tools {

using namespace kd::cli;

namespace {

// Why the edge prints spec as JSON rather than in a binding: the step travels where the binding does
// not go.
Error not_carried(const msg::StepSpec& spec, wire::Binding b, bool have_secret) {
  const std::string step(spec.name);
  if (b == wire::Binding::radius)
    return err(Code::unknown_step, "radius carries only the AuC link (s3, s4, s11, d2, d3, d7), not " + step);
  const bool auc_link = spec.from == msg::Role::auc || spec.to == msg::Role::auc;
  if (auc_link && !have_secret)
    return err(Code::unknown_step, step + " travels on the AuC link, in RADIUS: give --radius-secret-file to encode it");
  return err(Code::unknown_step, std::string(wire::binding_name(b)) + " does not carry " + step);
}

}  // namespace

int encode_main(const EncodeOptions& o) {
  if (o.binding.empty()) {
    if (!o.pcap_out.empty()) throw UsageError("--pcap-out needs --encode BINDING");
    if (!o.addrs.empty()) throw UsageError("--addr needs --encode BINDING");
    throw UsageError("--now needs --encode BINDING");
  }
  if (!o.conflicts.empty()) throw UsageError("--encode does not combine with " + o.conflicts.front());
  const auto b = wire::parse_binding(o.binding);
  if (!b || *b == wire::Binding::json)
    throw UsageError("--encode: unknown binding \"" + o.binding + "\" (" +
                     wire::binding_names({wire::Carrier::signaling, wire::Carrier::auc_link}) + ")");
  if (*b == wire::Binding::radius && o.secret_file.empty())
    throw UsageError("--encode radius needs the shared secret (--radius-secret-file)");
  if (o.pcap_out == "-") throw UsageError("--pcap-out -: the standard output carries the wire lines; name a file");
  WireOptions wo;
  wo.binding = *b;
  wo.pcap_out = o.pcap_out;
  for (const auto& a : o.addrs)
    if (auto why = parse_addr(a, wo)) throw UsageError(*why);
  const std::uint64_t now = o.now.value_or(static_cast<std::uint64_t>(std::time(nullptr)));
  if (auto why = check_pcap_out(wo, now)) throw UsageError(*why);

  {
    if (!o.secret_file.empty()) wo.radius_secret = read_radius_secret(o.secret_file, "kd-decode");
    wo.radius_link = !wo.radius_secret.empty();  // the AuC link in RADIUS whenever it can be
    WireEdge edge(wo, std::nullopt);
    // The wire bytes last encoded for each step: a response or a forwarded request is encoded after
    // the message it answers (msg::previous_step), as its sender would, so SIP echoes its transaction.
    std::map<const msg::StepSpec*, Bytes> sent;
    bool refused = false;
    const std::vector<std::string> inputs = o.inputs.empty() ? std::vector<std::string>{"-"} : o.inputs;
    for (const auto& path : inputs) {
      Input in(path, false);
      if (in.is_capture()) {
        std::cerr << "kd-decode: " << printable(path) << ": --encode reads JSON Lines, not a capture (kd-decode "
                  << printable(path) << " prints its messages as JSON)\n";
        refused = true;
        continue;
      }
      InputItem item;
      std::uint64_t line_no = 0;
      while (in.next(item)) {
        ++line_no;
        const json::LineKind kind = json::line_kind(item.line);
        if (kind == json::LineKind::report) continue;  // a transcript's events, kd-decode's reports
        std::string step;
        Result<msg::Message> m = kind == json::LineKind::record ? json::decode_record(item.line, &step, msg::Sizes::loose)
                                 : kind == json::LineKind::wire ? edge.from_line(item.line, &step)
                                                                : json::decode_message(item.line, &step, msg::Sizes::loose);
        if (m && !edge.sends_wire(msg::spec_of(*m))) m = not_carried(msg::spec_of(*m), *b, !wo.radius_secret.empty());
        if (m) {
          const msg::StepSpec& spec = msg::spec_of(*m);
          const msg::StepSpec* prev = msg::previous_step(spec);
          const auto it = prev ? sent.find(prev) : sent.end();
          Bytes wire;
          auto out = edge.outgoing(*m, now, it == sent.end() ? ByteView() : ByteView(it->second), &wire);
          if (out) {
            edge.flush_frames();
            std::cout << *out << "\n";
            sent[&spec] = std::move(wire);
            continue;
          }
          m = out.error();
        }
        refused = true;
        std::cout << json::encode_error(m.error(), step) << "\n";
        std::cerr << "kd-decode: error: " << code_name(m.error().code) << " ("
                  << (inputs.size() > 1 ? printable(path) + " " : "") << "line " << line_no
                  << "): " << printable(m.error().detail) << "\n";
      }
    }
    std::cout.flush();
    return refused ? kExitRejected : kExitOk;
  }
}

}  // namespace kd::tools
