#include "flows.hpp"

#include <stdexcept>

#include <deque>
#include <map>

#include "flow/roles.hpp"

namespace kd::wiretest {

using msg::Flow;
using msg::Message;
using msg::Role;

namespace {

constexpr std::uint64_t kNow = 1700000000;
const std::string kIdc = "alice+1@example.org";
const std::string kProxy = "sbc1.example.org";
const std::string kSwitch = "ss1.example.org";
const std::string kAuc = "auc1.example.org";

Bytes pattern(std::uint8_t start, std::size_t n) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(start + i);
  return b;
}

void add(flow::Keystore& ks, const std::string& id, Role role, const Bytes& key) {
  ks.entities[id] = flow::Entity{id, role, Secret(key)};
}

const std::string& self(Role r) {
  switch (r) {
    case Role::term: return kIdc;
    case Role::proxy: return kProxy;
    case Role::sw: return kSwitch;
    case Role::auc: break;
  }
  return kAuc;
}

}  // namespace

std::vector<Message> run_flow(const crypto::Suite& suite, Flow f, std::string* why, const std::string& contact) {
  const Bytes seed = to_bytes("kd-wire-seed");
  flow::Keystore auc_keys, term_keys, proxy_keys, switch_keys;
  add(auc_keys, kIdc, Role::term, pattern(0x10, 32));
  add(auc_keys, kProxy, Role::proxy, pattern(0x40, 32));
  add(auc_keys, kSwitch, Role::sw, pattern(0x70, 32));
  add(term_keys, kIdc, Role::term, pattern(0x10, 32));
  add(proxy_keys, kProxy, Role::proxy, pattern(0x40, 32));
  add(switch_keys, kSwitch, Role::sw, pattern(0x70, 32));
  flow::Policy policy;
  flow::TermState term;
  flow::ProxyState proxy;
  flow::SwitchState sw;
  flow::AucState auc;
  std::map<Role, crypto::SeededRandom> rng;
  for (Role r : {Role::term, Role::proxy, Role::sw, Role::auc})
    rng.emplace(r, crypto::SeededRandom(seed, msg::role_name(r), self(r), {}));

  auto ctx = [&](Role r) {
    flow::Context c;
    c.now = kNow;
    c.rng = &rng.at(r);
    c.policy = &policy;
    c.self_id = r == Role::term ? std::string() : self(r);
    switch (r) {
      case Role::term: c.keys = &term_keys; break;
      case Role::proxy: c.keys = &proxy_keys; break;
      case Role::sw: c.keys = &switch_keys; break;
      case Role::auc: c.keys = &auc_keys; break;
    }
    return c;
  };

  flow::StartParams p;
  p.idc = kIdc;
  if (f == Flow::proxied) p.via = kProxy;
  p.sw = kSwitch;
  p.suite = std::string(suite.name);
  p.mechs = {{"tls", 900}, {"ipsec-3gpp", 500}, {"digest", 125}};
  p.contact = contact;

  std::vector<Message> out;
  auto c0 = ctx(Role::term);
  flow::Output o = flow::term_start(term, p, c0);
  std::deque<Message> pending;
  while (true) {
    if (o.error) {
      if (why) *why = std::string(code_name(o.error->code)) + ": " + o.error->detail;
      return {};
    }
    for (const auto& m : o.messages) {
      out.push_back(m);
      pending.push_back(m);
    }
    if (pending.empty()) break;
    Message m = pending.front();
    pending.pop_front();
    auto c = ctx(msg::spec_of(m).to);
    switch (msg::spec_of(m).to) {
      case Role::term: o = flow::term_handle(term, m, c); break;
      case Role::proxy: o = flow::proxy_handle(proxy, m, c); break;
      case Role::sw: o = flow::switch_handle(sw, m, c); break;
      case Role::auc: o = flow::auc_handle(auc, m, c); break;
    }
  }
  return out;
}

namespace {

void le32(Bytes& b, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
void le16(Bytes& b, std::uint16_t v) {
  b.push_back(static_cast<std::uint8_t>(v));
  b.push_back(static_cast<std::uint8_t>(v >> 8));
}

std::uint8_t host_of(Role r) {
  switch (r) {
    case Role::term: return 10;
    case Role::proxy: return 20;
    case Role::sw: return 30;
    case Role::auc: return 40;
  }
  return 99;
}

}  // namespace

const Message& step_message(std::string_view step) {
  static const auto load = [](Flow f) {
    std::string why;
    auto msgs = run_flow(crypto::default_suite(), f, &why);
    if (msgs.empty()) throw std::runtime_error("the seeded " + std::string(msg::flow_name(f)) + " flow failed: " + why);
    std::map<std::string, Message, std::less<>> out;
    for (auto& m : msgs) out.emplace(std::string(msg::spec_of(m).name), std::move(m));
    return out;
  };
  static const auto proxied = load(Flow::proxied);
  static const auto direct = load(Flow::direct);
  const auto& map = step.starts_with('s') ? proxied : direct;
  const auto it = map.find(step);
  if (it == map.end()) throw std::runtime_error("no message " + std::string(step) + " in the seeded flow");
  return it->second;
}

PcapWriter::PcapWriter() {
  le32(out_, 0xa1b2c3d4);
  le16(out_, 2);
  le16(out_, 4);
  le32(out_, 0);       // thiszone
  le32(out_, 0);       // sigfigs
  le32(out_, 262144);  // snaplen
  le32(out_, 1);       // LINKTYPE_ETHERNET
}

void PcapWriter::add(Role from, Role to, ByteView payload, std::uint16_t sport, std::uint16_t dport) {
  Bytes f;
  const std::uint8_t src = host_of(from), dst = host_of(to);
  const Bytes dst_mac{0x02, 0, 0, 0, 0, dst}, src_mac{0x02, 0, 0, 0, 0, src};
  put_bytes(f, dst_mac);
  put_bytes(f, src_mac);
  put_u16(f, 0x0800);
  const std::size_t ip_at = f.size();
  const auto total = static_cast<std::uint16_t>(20 + 8 + payload.size());
  put_u8(f, 0x45);
  put_u8(f, 0);
  put_u16(f, total);
  put_u16(f, ip_id_++);
  put_u16(f, 0x4000);  // don't fragment
  put_u8(f, 64);
  put_u8(f, 17);
  put_u16(f, 0);  // checksum, below
  const Bytes net{192, 0, 2};  // TEST-NET-1
  put_bytes(f, net);
  put_u8(f, src);
  put_bytes(f, net);
  put_u8(f, dst);
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i < 20; i += 2) sum += static_cast<std::uint32_t>(f[ip_at + i] << 8 | f[ip_at + i + 1]);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  const auto ck = static_cast<std::uint16_t>(~sum);
  f[ip_at + 10] = static_cast<std::uint8_t>(ck >> 8);
  f[ip_at + 11] = static_cast<std::uint8_t>(ck);
  put_u16(f, sport);
  put_u16(f, dport);
  put_u16(f, static_cast<std::uint16_t>(8 + payload.size()));
  put_u16(f, 0);  // no UDP checksum (allowed over IPv4)
  put_bytes(f, payload);

  le32(out_, seconds_);
  le32(out_, micros_);
  le32(out_, static_cast<std::uint32_t>(f.size()));
  le32(out_, static_cast<std::uint32_t>(f.size()));
  put_bytes(out_, f);
  micros_ += 1000;
}

}  // namespace kd::wiretest
