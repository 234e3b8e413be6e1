// Writes captures of complete registrations in one binding, every suite, for tshark to judge:
// DIR/<binding>-proxied.pcap and DIR/<binding>-direct.pcap, each framed as Ethernet/IPv4/UDP at the
// ports the codec names, with DIR/<binding>-<flow>.steps listing the step of each frame, one per
// line. For SIP it also writes DIR/sip-<flow>.expected: one line per frame, "REGISTER" or the status
// code, as `tshark -T fields -e sip.Method -e sip.Status-Code` should print it.
// Usage: kd-wire-capture BINDING DIR [RADIUS-SECRET]
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include "flows.hpp"
#include "wire/codec.hpp"

int main(int argc, char** argv) {
  if (argc < 3 || argc > 4) {
    std::cerr << "usage: kd-wire-capture BINDING DIR [RADIUS-SECRET]\n";
    return 2;
  }
  const auto binding = kd::wire::parse_binding(argv[1]);
  const std::string dir = argv[2];
  kd::wire::CodecOptions options;
  if (argc == 4) options.radius_secret = argv[3];
  auto codec = binding ? kd::wire::make_codec(*binding, options) : nullptr;
  if (!codec) {
    std::cerr << "kd-wire-capture: no codec for " << argv[1] << "\n";
    return 2;
  }
  for (auto flow : {kd::msg::Flow::proxied, kd::msg::Flow::direct}) {
    kd::wiretest::PcapWriter pcap;
    std::string expected, steps;
    for (const auto& suite : kd::crypto::all_suites()) {
      std::string why;
      auto msgs = kd::wiretest::run_flow(suite, flow, &why);
      if (msgs.empty()) {
        std::cerr << "kd-wire-capture: the flow failed: " << why << "\n";
        return 1;
      }
      for (const auto& m : msgs) {
        const auto& spec = kd::msg::spec_of(m);
        if (!codec->carries(spec)) continue;
        auto bytes = codec->encode(m);
        if (!bytes) {
          std::cerr << "kd-wire-capture: " << spec.name << ": " << bytes.error().detail << "\n";
          return 1;
        }
        const auto [sport, dport] = codec->ports(spec);
        pcap.add(spec.from, spec.to, *bytes, sport, dport);
        steps += std::string(spec.name) + "\n";
        const std::string_view text(reinterpret_cast<const char*>(bytes->data()), bytes->size());
        if (text.starts_with("REGISTER")) {
          expected += "REGISTER\t\n";
        } else {  // appended, not added: GCC 12 -O3 gives a false -Werror=restrict on "\t" + string
          expected += '\t';
          expected += text.substr(8, 3);
          expected += '\n';
        }
      }
    }
    const std::string base = dir + "/" + argv[1] + "-" + std::string(kd::msg::flow_name(flow));
    std::ofstream(base + ".pcap", std::ios::binary)
        .write(reinterpret_cast<const char*>(pcap.bytes().data()), static_cast<std::streamsize>(pcap.bytes().size()));
    std::ofstream(base + ".steps") << steps;
    if (*binding == kd::wire::Binding::sip) std::ofstream(base + ".expected") << expected;
  }
  return 0;
}
