// Writes captures of complete registrations in the SIP binding, every suite, for tshark to judge:
// DIR/sip-proxied.pcap and DIR/sip-direct.pcap, each with DIR/<name>.expected holding one line per
// frame, "REGISTER" or the status code, as `tshark -T fields -e sip.Method -e sip.Status-Code`
// should print it.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include "flows.hpp"
#include "wire/codec.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: kd-wire-capture DIR\n";
    return 2;
  }
  const std::string dir = argv[1];
  auto codec = kd::wire::make_codec(kd::wire::Binding::sip);
  for (auto flow : {kd::msg::Flow::proxied, kd::msg::Flow::direct}) {
    kd::wiretest::PcapWriter pcap;
    std::string expected;
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
        pcap.add(spec.from, spec.to, *bytes);
        const std::string_view text(reinterpret_cast<const char*>(bytes->data()), bytes->size());
        expected += text.starts_with("REGISTER") ? "REGISTER\t\n" : "\t" + std::string(text.substr(8, 3)) + "\n";
      }
    }
    const std::string base = dir + "/sip-" + std::string(kd::msg::flow_name(flow));
    std::ofstream(base + ".pcap", std::ios::binary)
        .write(reinterpret_cast<const char*>(pcap.bytes().data()), static_cast<std::streamsize>(pcap.bytes().size()));
    std::ofstream(base + ".expected") << expected;
  }
  return 0;
}
