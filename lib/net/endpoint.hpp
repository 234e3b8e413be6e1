// Where a service listens and where its peers are: "udp:HOST:PORT" or "tcp:HOST:PORT" (kd-live(7),
// ENDPOINTS), and the socket addresses the event loop reports, as plain values: no socket library
// type leaves lib/net's event loop.
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace kd::net {

enum class Transport : std::uint8_t { udp, tcp };

struct Endpoint {
  Transport transport = Transport::udp;
  std::string host;  // an IPv4 address, an IPv6 address (without its brackets) or a name
  std::uint16_t port = 0;  // 0: any free port (listening)
};

// Parses ENDPOINT; a message on failure (quoting text as it is: the printer escapes it).
std::optional<std::string> parse_endpoint(std::string_view text, Endpoint& out);
std::string to_string(const Endpoint& e);  // "udp:HOST:PORT", an IPv6 host in brackets

// A resolved UDP address: 16 bytes (an IPv4 address in the first 4), its family, its port.
struct Address {
  std::array<std::uint8_t, 16> ip{};
  bool v6 = false;
  std::uint16_t port = 0;
  auto operator<=>(const Address&) const = default;
};
std::string to_string(const Address& a, Transport t = Transport::udp);  // "udp:127.0.0.1:5060"

struct AddressHash {
  std::size_t operator()(const Address& a) const noexcept;
};

}  // namespace kd::net
