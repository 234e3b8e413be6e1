#include "net/endpoint.hpp"

#include <arpa/inet.h>

#include <charconv>

namespace kd::net {

std::optional<std::string> parse_endpoint(std::string_view text, Endpoint& out) {
  const std::string quoted = "\"" + std::string(text) + "\"";
  Endpoint e;
  std::string_view rest;
  if (text.starts_with("udp:")) {
    e.transport = Transport::udp;
  } else if (text.starts_with("tcp:")) {
    e.transport = Transport::tcp;
  } else {
    return "endpoint " + quoted + ": must be udp:HOST:PORT or tcp:HOST:PORT";
  }
  rest = text.substr(4);
  const auto colon = rest.rfind(':');
  if (colon == std::string_view::npos) return "endpoint " + quoted + ": no :PORT after the host";
  std::string_view host = rest.substr(0, colon), port = rest.substr(colon + 1);
  if (host.starts_with('[')) {
    if (!host.ends_with(']') || host.size() < 3) return "endpoint " + quoted + ": an IPv6 host is [ADDRESS]";
    host = host.substr(1, host.size() - 2);
    in6_addr a6{};
    if (inet_pton(AF_INET6, std::string(host).c_str(), &a6) != 1)
      return "endpoint " + quoted + ": [" + std::string(host) + "] is not an IPv6 address";
  } else if (host.find(':') != std::string_view::npos) {
    return "endpoint " + quoted + ": write an IPv6 host in brackets, udp:[::1]:PORT";
  }
  if (host.empty()) return "endpoint " + quoted + ": the host is empty";
  if (host.size() > 253) return "endpoint " + quoted + ": the host name is longer than 253 characters";
  for (const char c : host) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '-' || c == ':' || c == '%' || c == '_';
    if (!ok) return "endpoint " + quoted + ": the host holds a character no address or name has";
  }
  unsigned v = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || v > 65535)
    return "endpoint " + quoted + ": the port must be a number from 0 to 65535";
  e.host = std::string(host);
  e.port = static_cast<std::uint16_t>(v);
  out = std::move(e);
  return std::nullopt;
}

std::string to_string(const Endpoint& e) {
  const bool v6 = e.host.find(':') != std::string::npos;
  return std::string(e.transport == Transport::udp ? "udp:" : "tcp:") + (v6 ? "[" : "") + e.host + (v6 ? "]" : "") +
         ":" + std::to_string(e.port);
}

std::string to_string(const Address& a, Transport t) {
  // One string, reserved once: the proxy names where each s1 and s7 came from (IPc), and the
  // concatenations (five strings and a formatting of the port) cost more than the rest of its
  // handling of the datagram's addresses (callgrind, kd-proxy serve). An IPv4 address in dotted
  // decimal without leading zeros, as inet_ntop(3) writes it.
  std::string out;
  out.reserve(4 + 2 + INET6_ADDRSTRLEN + 6);
  out += t == Transport::udp ? "udp:" : "tcp:";
  char buf[INET6_ADDRSTRLEN] = {};
  if (a.v6) {
    inet_ntop(AF_INET6, a.ip.data(), buf, sizeof buf);
    out += '[';
    out += buf;
    out += ']';
  } else {
    for (std::size_t i = 0; i < 4; ++i) {
      if (i > 0) out += '.';
      const unsigned v = a.ip[i];
      if (v >= 100) out += static_cast<char>('0' + v / 100);
      if (v >= 10) out += static_cast<char>('0' + v / 10 % 10);
      out += static_cast<char>('0' + v % 10);
    }
  }
  out += ':';
  const auto port = std::to_chars(buf, buf + sizeof buf, a.port).ptr;
  out.append(buf, port);
  return out;
}

std::size_t AddressHash::operator()(const Address& a) const noexcept {
  std::size_t h = a.v6 ? 0x9e3779b97f4a7c15u : 0;
  for (const auto b : a.ip) h = h * 131 + b;
  return h * 65599 + a.port;
}

}  // namespace kd::net
