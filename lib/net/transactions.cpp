#include "net/transactions.hpp"

#include <functional>

namespace kd::net {

namespace {
ByteView as_bytes(std::string_view s) { return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}; }
}  // namespace

std::size_t ServerTransactions::hash_of(const Address& key, ByteView bytes) noexcept {
  return AddressHash{}(key) ^ (std::hash<std::string_view>{}(as_view(bytes)) * 0x9e3779b97f4a7c15u);
}

void ServerTransactions::match_by_host(SocketId socket) {
  if (std::find(by_host_.begin(), by_host_.end(), socket) == by_host_.end()) by_host_.push_back(socket);
}

Address ServerTransactions::key_address(SocketId socket, const Address& from) const {
  if (std::find(by_host_.begin(), by_host_.end(), socket) == by_host_.end()) return from;
  Address host = from;
  host.port = 0;  // no connection has it: a key of a host never meets a key of a UDP source
  return host;
}

ServerTransactions::Request ServerTransactions::request(SocketId socket, const Address& from, ByteView bytes) {
  ++hashes_;
  Address key = key_address(socket, from);
  const std::size_t hash = hash_of(key, bytes);
  return Request{socket, from, std::move(key), bytes, hash};
}

ServerTransactions::Seen ServerTransactions::lookup(const Request& r, std::uint64_t now_ms, const Bytes** response) {
  auto it = find(r);
  if (it == entries_.end() || it->second.expiry.at <= now_ms) return Seen::fresh;
  it->second.latest = r.from;
  if (!it->second.answered && !it->second.name.empty()) {
    drop_late(it->second);  // the caller answers this copy with one
    return Seen::pending;
  }
  if (!it->second.answered || it->second.response.empty()) return Seen::absorbed;
  if (response) *response = &it->second.response;
  return Seen::answered;
}

void ServerTransactions::set_expiry(Map::iterator it, std::uint64_t at) {
  by_expiry_.erase(it->second.expiry);
  by_expiry_.insert(it->second.expiry, &*it, at);
}

void ServerTransactions::drop_late(Entry& e) { by_late_.erase(e.late); }

std::optional<std::uint64_t> ServerTransactions::deadline() const {
  if (const auto* h = by_late_.first()) return h->at;
  return std::nullopt;
}

void ServerTransactions::take_late(std::uint64_t now_ms, const std::function<void(const Late&)>& f) {
  for (const Times::Hook* h = by_late_.first(); h && h->at <= now_ms; h = by_late_.first()) {
    Node& n = *h->owner;
    by_late_.erase(n.second.late);
    // Where the request came from: a copy from elsewhere would have found it pending and got
    // its provisional answer then, so none is due.
    f(Late{n.second.socket, n.second.first, as_bytes(n.first.request)});
  }
}

void ServerTransactions::erase(Map::iterator it) {
  drop_late(it->second);
  by_expiry_.erase(it->second.expiry);
  if (!it->second.name.empty()) {
    auto n = named_.find(it->second.name);
    if (n != named_.end() && n->second == &it->first) named_.erase(n);
  }
  held_ -= it->first.request.size() + it->second.response.size() + it->second.name.size();
  entries_.erase(it);
}

void ServerTransactions::make_room(std::size_t adding) {
  while (!entries_.empty() && (entries_.size() >= max_ || held_ + adding > max_bytes_))
    erase(entries_.find(by_expiry_.first()->owner->first));
}

void ServerTransactions::open(const Request& r, std::uint64_t now_ms, std::uint64_t wait_ms, std::string name) {
  if (auto old = find(r); old != entries_.end()) erase(old);  // expired, not yet forgotten
  make_room(r.bytes.size() + name.size());
  auto [it, _] = entries_.emplace(Key{r.key, std::string(as_view(r.bytes)), r.hash}, Entry{});
  it->second.socket = r.socket;
  it->second.first = it->second.latest = r.from;
  set_expiry(it, now_ms + wait_ms);
  held_ += it->first.request.size() + name.size();
  if (!name.empty()) {
    if (auto n = named_.find(name); n != named_.end()) {
      // An unanswered transaction of that name (a new registration of the terminal) loses its name.
      auto prev = entries_.find(*n->second);
      held_ -= prev->second.name.size();
      prev->second.name.clear();
      drop_late(prev->second);
      named_.erase(n);
    }
    it->second.name = std::move(name);
    named_.emplace(it->second.name, &it->first);
    if (provisional_ms_ != 0) by_late_.insert(it->second.late, &*it, now_ms + provisional_ms_);
  }
}

std::optional<Outgoing> ServerTransactions::settle(Map::iterator it, Bytes response, std::uint64_t now_ms,
                                                   std::uint64_t keep_ms) {
  Entry& e = it->second;
  drop_late(e);
  if (!e.name.empty()) {
    named_.erase(e.name);
    held_ -= e.name.size();
    e.name.clear();
  }
  e.answered = true;
  held_ += response.size();
  held_ -= e.response.size();
  e.response = std::move(response);
  set_expiry(it, now_ms + keep_ms);
  // The journal keeps where the request first came from (over TCP the key holds the host alone).
  if (sink_) sink_(AnswerRef{e.first, as_bytes(it->first.request), e.socket, e.response, now_ms + keep_ms});
  // The first copy's connection gone, the latest copy's (a copy on a new connection).
  const bool first_gone = e.latest != e.first && reachable_ && !reachable_(e.socket, e.first);
  return Outgoing{e.socket, first_gone ? e.latest : e.first, e.response};
}

void ServerTransactions::for_each_answered(std::uint64_t now_ms, const std::function<void(const AnswerRef&)>& f) const {
  by_expiry_.for_each_after(now_ms, [&f](const Times::Hook& h) {
    const auto& [k, e] = *h.owner;
    if (e.answered) f(AnswerRef{e.first, as_bytes(k.request), e.socket, e.response, h.at});
  });
}

std::vector<Answered> ServerTransactions::answered(std::uint64_t now_ms) const {
  std::vector<Answered> out;
  for_each_answered(now_ms, [&out](const AnswerRef& a) {
    out.push_back(Answered{a.from, Bytes(a.request.begin(), a.request.end()), a.socket,
                           Bytes(a.response.begin(), a.response.end()), a.expires_ms});
  });
  return out;
}

void ServerTransactions::restore(Answered a) {
  Address key = key_address(a.socket, a.from);
  const std::size_t hash = hash_of(key, a.request);
  Key k{std::move(key), std::string(a.request.begin(), a.request.end()), hash};
  if (auto old = entries_.find(k); old != entries_.end()) erase(old);
  make_room(k.request.size() + a.response.size());
  auto [it, _] = entries_.emplace(std::move(k), Entry{});
  it->second.socket = a.socket;
  it->second.first = it->second.latest = a.from;
  it->second.answered = true;
  held_ += it->first.request.size() + a.response.size();
  it->second.response = std::move(a.response);
  set_expiry(it, a.expires_ms);
}

std::optional<Outgoing> ServerTransactions::answer(std::string_view name, Bytes response, std::uint64_t now_ms,
                                                   std::uint64_t keep_ms) {
  auto n = named_.find(name);
  if (n == named_.end()) return std::nullopt;
  return settle(entries_.find(*n->second), std::move(response), now_ms, keep_ms);
}

ByteView ServerTransactions::pending_request(std::string_view name) const {
  auto n = named_.find(name);
  return n == named_.end() ? ByteView{} : as_bytes(n->second->request);
}

std::optional<Outgoing> ServerTransactions::answer(const Request& r, Bytes response, std::uint64_t now_ms,
                                                   std::uint64_t keep_ms) {
  auto it = find(r);
  if (it == entries_.end()) return std::nullopt;
  return settle(it, std::move(response), now_ms, keep_ms);
}

void ServerTransactions::expire(std::uint64_t now_ms) {
  for (const Times::Hook* h = by_expiry_.first(); h && h->at <= now_ms; h = by_expiry_.first())
    erase(entries_.find(h->owner->first));
}

void ClientTransactions::start(std::string key, std::string label, Outgoing out, const Timers& t,
                               std::uint64_t now_ms, std::optional<std::uint32_t> ref) {
  complete(key);
  Retransmission schedule(t, now_ms, std::hash<std::string>{}(key) ^ now_ms);
  auto [it, _] = txns_.emplace(key, Slot{Txn{key, std::move(label), std::move(out), schedule}, {}, std::nullopt, ref});
  it->second.at = by_deadline_.emplace(schedule.deadline(), &it->first);
  if (ref) by_ref_.emplace(*ref, &it->first);
}

void ClientTransactions::erase(std::map<std::string, Slot, std::less<>>::iterator it) {
  if (it->second.ref) {
    auto [lo, hi] = by_ref_.equal_range(*it->second.ref);
    for (auto r = lo; r != hi; ++r)
      if (r->second == &it->first) {
        by_ref_.erase(r);
        break;
      }
  }
  txns_.erase(it);
}

const ClientTransactions::Txn* ClientTransactions::provisional(std::uint32_t ref, const Address& from,
                                                                std::uint64_t now_ms, std::uint64_t wait_ms) {
  if (by_ref_.count(ref) != 1) return nullptr;
  auto it = txns_.find(*by_ref_.find(ref)->second);
  Slot& s = it->second;
  if (s.txn.out.to != from) return nullptr;
  by_deadline_.erase(s.at);
  s.txn.schedule.on_provisional(now_ms, wait_ms);
  s.at = by_deadline_.emplace(s.deadline(), &it->first);
  return &s.txn;
}

bool ClientTransactions::complete(std::string_view key) {
  auto it = txns_.find(key);
  if (it == txns_.end()) return false;
  by_deadline_.erase(it->second.at);
  erase(it);
  return true;
}

const ClientTransactions::Txn* ClientTransactions::find(std::string_view key) const {
  auto it = txns_.find(key);
  return it == txns_.end() ? nullptr : &it->second.txn;
}

std::optional<std::uint64_t> ClientTransactions::deadline() const {
  if (by_deadline_.empty()) return std::nullopt;
  return by_deadline_.begin()->first;
}

void ClientTransactions::on_time(std::uint64_t now_ms, std::vector<Outgoing>& resend, std::vector<Txn>& gave_up) {
  while (!by_deadline_.empty() && by_deadline_.begin()->first <= now_ms) {
    auto it = txns_.find(*by_deadline_.begin()->second);
    by_deadline_.erase(by_deadline_.begin());
    Slot& s = it->second;
    const bool reconnect = s.resend_at && *s.resend_at <= now_ms;
    if (reconnect) s.resend_at.reset();
    if (reconnect && s.txn.schedule.deadline() > now_ms) {
      ++s.txn.resends;  // its connection failed: the same bytes on a new one; the schedule goes on
    } else if (s.txn.schedule.on_deadline(now_ms) == Retransmission::Action::give_up) {
      gave_up.push_back(std::move(s.txn));
      erase(it);
      continue;
    }
    resend.push_back(s.txn.out);
    s.at = by_deadline_.emplace(s.deadline(), &it->first);
  }
}

std::uint64_t reconnect_delay(std::uint32_t attempt) noexcept {
  std::uint64_t d = kReconnectFirstMs;
  for (std::uint32_t i = 1; i < attempt && d < kReconnectMaxMs; ++i) d *= 2;
  return std::min(d, kReconnectMaxMs);
}

std::size_t ClientTransactions::transport_failed(SocketId socket, std::uint64_t now_ms, std::vector<Txn>& gave_up) {
  std::size_t concerned = 0;
  for (auto it = txns_.begin(); it != txns_.end();) {
    Slot& s = it->second;
    if (s.txn.out.socket != socket || s.resend_at) {
      ++it;
      continue;
    }
    ++concerned;
    by_deadline_.erase(s.at);
    if (++s.txn.failures > kMaxReconnects) {
      gave_up.push_back(std::move(s.txn));
      erase(it++);
      continue;
    }
    // Past its schedule's next deadline the schedule decides (a UDP-like resend, or giving up at
    // the transaction's own timeout).
    if (const std::uint64_t at = now_ms + reconnect_delay(s.txn.failures); at < s.txn.schedule.deadline())
      s.resend_at = at;
    s.at = by_deadline_.emplace(s.deadline(), &it->first);
    ++it;
  }
  return concerned;
}

}  // namespace kd::net
