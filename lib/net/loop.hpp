// The event loop of a live service or of kd-term register: UDP sockets, the earliest deadline, and
// SIGINT/SIGTERM. Standalone Asio stays behind this interface (loop.cpp), so the rest of kd sees
// plain values: addresses, datagrams, milliseconds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/bytes.hpp"
#include "net/endpoint.hpp"
#include "net/transactions.hpp"

namespace kd::net {

struct Datagram {
  SocketId socket = 0;
  Address from;
  Bytes data;
};

class Loop {
public:
  // Catches SIGINT and SIGTERM from here on: they end run().
  Loop();
  ~Loop();
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  // The first address of e's host (a name through the system's resolver); a message on failure.
  std::optional<std::string> resolve(const Endpoint& e, Address& out);
  // A UDP socket bound to e (port 0: any free port); bound: the address it got.
  std::optional<std::string> listen(const Endpoint& e, SocketId& id, Address& bound);
  // A UDP socket on any local address of the family of peer, at a free port.
  std::optional<std::string> open_client(const Address& peer, SocketId& id);
  // Sends one datagram; a message on failure (the caller reports it: UDP may lose it anyway).
  std::optional<std::string> send(SocketId socket, const Address& to, ByteView data);

  struct Handler {
    virtual ~Handler() = default;
    // Up to max_batch datagrams that were ready together, in arrival order per socket.
    virtual void on_datagrams(std::vector<Datagram>& batch, std::uint64_t now_ms) = 0;
    // The earliest time on_deadline() is wanted, if any.
    virtual std::optional<std::uint64_t> deadline() = 0;
    virtual void on_deadline(std::uint64_t now_ms) = 0;
  };
  // Runs until stop() (returns 0) or a SIGINT/SIGTERM (returns the signal's number).
  int run(Handler& h, std::size_t max_batch);
  void stop();
  // A monotonic clock in milliseconds (the transactions' time).
  static std::uint64_t now_ms();
  // The same clock in microseconds (latencies on the loopback are a fraction of a millisecond).
  static std::uint64_t now_us();

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kd::net
