// The event loop of a live service or of kd-term register: UDP sockets, TCP listeners and
// connections, the earliest deadline, and SIGINT/SIGTERM. Standalone Asio stays behind this
// interface (loop.cpp), so the rest of kd sees plain values: addresses, messages, milliseconds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/bytes.hpp"
#include "net/endpoint.hpp"
#include "net/stream.hpp"
#include "net/transactions.hpp"

namespace kd::net {

// The receive buffer each UDP socket asks the kernel for (SO_RCVBUF; the kernel caps it at
// net.core.rmem_max): kd-live(7), MEMORY.
inline constexpr int kUdpReceiveBuffer = 4 << 20;

// A message as it came: a UDP datagram, or one cut out of a TCP connection (socket: its listener
// or its client socket, from: the connection's far end, which send() answers on).
struct Datagram {
  SocketId socket = 0;
  Address from;
  Bytes data;
};

// Why a TCP connection ended other than by its peer closing it.
enum class StreamFault : std::uint8_t {
  oversized,   // the peer sent a message longer than kMaxStreamMessage, or one without end
  framing,     // the peer sent bytes that cannot be cut into messages of the binding
  overflow,    // the peer does not take what is sent to it (kMaxStreamQueued)
  transport,   // the connection could not be opened, or broke
  closed,      // a client socket's peer closed the connection (a listener's peers close theirs unreported)
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
  // A socket bound to e (port 0: any free port); bound: the address it got. For tcp:, a listener
  // whose connections carry messages in framing (at most kMaxConnectionsPerListener at once).
  std::optional<std::string> listen(const Endpoint& e, SocketId& id, Address& bound,
                                    StreamFraming framing = StreamFraming::lines);
  // Towards peer. UDP: a socket on any local address of peer's family, at a free port. TCP: one
  // connection, opened at the first send and opened again at the next send after it ended.
  // local_port (UDP): the port to send from when it is free (a service keeps its port across
  // restarts), else any free port; local_port() tells which one it got.
  std::optional<std::string> open_client(const Address& peer, SocketId& id, Transport t = Transport::udp,
                                         StreamFraming framing = StreamFraming::lines, std::uint16_t local_port = 0);
  std::uint16_t local_port(SocketId socket) const;
  // A client socket's address as its peer sees it (what a SIP Via names). UDP: the local address
  // the system routes towards the peer from, with the socket's port. TCP: its connection's local
  // address and port, the connection opened now when there is none (the next send goes on it).
  // nullopt for a listening socket, or when there is no route.
  std::optional<Address> local_address(SocketId socket);
  // Sends one message: a datagram, or on a TCP listener the connection from `to`, on a TCP client
  // socket its connection. A message on a failure seen now (the caller reports it: UDP may lose
  // it anyway); what fails later on a connection comes to Handler::on_stream_fault, and so does
  // a TCP client's connection breaking now (after this call returns: its requests can then be
  // sent again, which a caller in the middle of sending could not do).
  std::optional<std::string> send(SocketId socket, const Address& to, ByteView data);
  // The messages of a batch, each as send() sends it, in their order on each socket (the sockets
  // in the order of their first message): a UDP socket's datagrams go by one sendmmsg(2) per 64,
  // not a system call each, nor one per run between another socket's (a switch's answers to its
  // proxy and requests to its AuC alternate). failed gets each message send() would have returned.
  void send_all(const std::vector<Outgoing>& out, const std::function<void(const std::string&)>& failed);
  Transport transport(SocketId socket) const;
  // Whether send(socket, to, ...) has a way to `to` now: false only for a TCP listener that holds
  // no open connection from `to` (ServerTransactions::set_reachable).
  bool reaches(SocketId socket, const Address& to) const;
  // A connection accepted by a TCP listener is closed once nothing went either way on it for ms
  // (kStreamIdleMs unless set; 0: never). Bytes that frame no message (RFC 5626's CRLF keep-alives)
  // count. Client connections stay: their peer closes them when it will.
  void set_stream_idle(std::uint64_t ms);
  // A message begun on a connection accepted by a TCP listener must be complete within ms of its
  // first byte (kStreamMessageMs unless set; 0: no bound), or the connection is closed and the
  // handler told (StreamFault::framing).
  void set_stream_message_time(std::uint64_t ms);

  // The group-commit window (CommitWindow, kd-live(7) DURABILITY): after a batch of UDP datagrams
  // whose handling waits for a sync (Handler::wants_sync), keep receiving and handling for up to
  // us microseconds, or until max_batch datagrams in all, before Handler::on_commit. 0 (the
  // default): on_commit after each batch.
  void set_commit_window(std::uint64_t us);

  struct Handler {
    virtual ~Handler() = default;
    // Up to max_batch datagrams that were ready together, in arrival order per socket. What they
    // answer waits for on_commit().
    virtual void on_datagrams(std::vector<Datagram>& batch, std::uint64_t now_ms) = 0;
    // Whether what the batches since the last on_commit() changed waits for a sync.
    virtual bool wants_sync() { return false; }
    // After one or more on_datagrams(): make their changes durable, then send what they answered.
    virtual void on_commit() {}
    // The earliest time on_deadline() is wanted, if any.
    virtual std::optional<std::uint64_t> deadline() = 0;
    virtual void on_deadline(std::uint64_t now_ms) = 0;
    // A connection of socket with peer was closed for fault, or by a client socket's peer (why
    // says how, for a message).
    virtual void on_stream_fault(SocketId socket, const Address& peer, StreamFault fault, const std::string& why) {
      (void)socket, (void)peer, (void)fault, (void)why;
    }
  };
  // Runs f on the loop's thread as soon as it can, from run(); callable from any thread (how the
  // journal's sync thread says a sync returned, net/sync_thread.hpp).
  void post(std::function<void()> f);
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
