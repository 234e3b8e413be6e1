// The RFC 3261 host grammar (hostname, IPv4address, IPv6reference, hostport), and the host an
// identity names: SIP's URIs and Via, MGCP's endpoint names and H.248's mIds are built from it.
#pragma once

#include <string>
#include <string_view>

namespace kd::wire {

bool is_ipv6(std::string_view s);  // IPv6address, without brackets
bool is_hostport(std::string_view s);
// The identity itself when it is an RFC 3261 hostname or IPv4 address, else the part after its
// last '@' when that is one, else "invalid" (RFC 2606).
std::string host_for(std::string_view id);

}  // namespace kd::wire
