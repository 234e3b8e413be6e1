// TCP: per-direction stream reassembly by sequence number, bounded, feeding a framer.
#include <limits>

#include "capture/internal.hpp"

namespace kd::capture::detail {

namespace {

constexpr std::uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04;

std::string key_of(const std::string& src, const std::string& dst, std::uint16_t sport, std::uint16_t dport) {
  return src + '|' + dst + '|' + std::to_string(sport) + '|' + std::to_string(dport);
}

}  // namespace

void TcpStreams::deliver(Stream& st, ByteView data, const FrameInfo& fi, std::deque<Packet>& out) {
  std::vector<Bytes> msgs;
  if (const std::size_t bad = st.framer->push(data, msgs)) {
    ++stats_.framing_errors;
    stats_.tcp_bytes_dropped += bad;
  }
  for (auto& m : msgs) {
    Packet p;
    p.frame = fi.frame;
    p.ts_sec = fi.ts_sec;
    p.ts_nsec = fi.ts_nsec;
    p.src_ip = st.src;
    p.dst_ip = st.dst;
    p.src_port = st.sport;
    p.dst_port = st.dport;
    p.transport = Transport::tcp;
    p.payload = std::move(m);
    out.push_back(std::move(p));
  }
}

// Delivers buffered segments that have become in order.
void TcpStreams::drain(Stream& st, const FrameInfo& fi, std::deque<Packet>& out) {
  while (!st.ooo.empty()) {
    auto it = st.ooo.begin();
    if (it->first > st.next_off) break;
    const std::uint64_t end = it->first + it->second.size();
    st.ooo_bytes -= it->second.size();
    if (end > st.next_off) {
      deliver(st, ByteView(it->second).subspan(static_cast<std::size_t>(st.next_off - it->first)), fi, out);
      st.next += static_cast<std::uint32_t>(end - st.next_off);
      st.next_off = end;
    } else {
      ++stats_.tcp_retransmissions;
    }
    st.ooo.erase(it);
  }
}

void TcpStreams::account(Stream& st) {
  const std::size_t now = st.ooo_bytes + st.framer->pending();
  buffered_ = buffered_ - st.accounted + now;
  st.accounted = now;
}

void TcpStreams::drop(std::unordered_map<std::string, Stream>::iterator it, bool evicted) {
  Stream& st = it->second;
  if (!st.ooo.empty()) ++stats_.tcp_gaps;  // a hole that was never filled
  stats_.tcp_bytes_dropped += st.ooo_bytes + st.framer->reset();
  if (evicted) ++stats_.tcp_streams_dropped;
  buffered_ -= st.accounted;
  streams_.erase(it);
}

void TcpStreams::evict_oldest(const std::string& keep) {
  auto oldest = streams_.end();
  for (auto it = streams_.begin(); it != streams_.end(); ++it)
    if (it->first != keep && (oldest == streams_.end() || it->second.last_frame < oldest->second.last_frame)) oldest = it;
  if (oldest == streams_.end()) oldest = streams_.find(keep);
  if (oldest != streams_.end()) drop(oldest, true);
}

void TcpStreams::segment(const std::string& src, const std::string& dst, ByteView seg, const FrameInfo& fi,
                         std::deque<Packet>& out) {
  if (seg.size() < 20 || (seg[12] >> 4) * 4u < 20 || (seg[12] >> 4) * 4u > seg.size()) {
    ++stats_.bad_headers;
    return;
  }
  ++stats_.tcp_segments;
  const std::uint16_t sport = be16(&seg[0]), dport = be16(&seg[2]);
  const std::uint32_t seq = be32(&seg[4]);
  const std::uint8_t flags = seg[13];
  const ByteView data = seg.subspan((seg[12] >> 4) * 4u);
  const std::string key = key_of(src, dst, sport, dport);

  if (flags & kRst) {  // the connection is gone in both directions
    for (const auto& k : {key, key_of(dst, src, dport, sport)})
      if (auto it = streams_.find(k); it != streams_.end()) drop(it, false);
    return;
  }
  auto it = streams_.find(key);
  if (it == streams_.end()) {
    if (data.empty() && !(flags & kSyn)) return;  // a bare ACK or FIN of a stream we hold nothing of
    if (streams_.size() >= opt_.limits.max_streams) evict_oldest(key);
    Stream st;
    st.framer = opt_.framer ? opt_.framer(sport, dport) : nullptr;
    if (!st.framer) st.framer = make_raw_framer();
    st.src = src;
    st.dst = dst;
    st.sport = sport;
    st.dport = dport;
    it = streams_.emplace(key, std::move(st)).first;
  }
  Stream& st = it->second;
  st.last_frame = fi.frame;

  if (flags & kSyn) {
    if (!st.have_isn || seq != st.isn) {  // a new connection on the same ports: forget the old one
      if (st.have_isn || st.next_off || !st.ooo.empty()) {
        stats_.tcp_bytes_dropped += st.ooo_bytes + st.framer->reset();
        st.ooo.clear();
        st.ooo_bytes = 0;
        st.fin = false;
      }
      st.have_isn = true;
      st.isn = seq;
      st.next = seq + 1;
      st.next_off = 0;
    }
  } else if (!st.have_isn && st.next_off == 0 && st.ooo.empty()) {
    // The capture began after the handshake: the first segment seen starts the stream.
    st.have_isn = true;
    st.isn = seq - 1;
    st.next = seq;
  }

  const std::uint32_t start = (flags & kSyn) ? seq + 1 : seq;
  const std::int64_t off = static_cast<std::int64_t>(st.next_off) + static_cast<std::int32_t>(start - st.next);
  const std::int64_t end = off + static_cast<std::int64_t>(data.size());
  if (flags & kFin && end >= 0) {
    st.fin = true;
    st.fin_off = static_cast<std::uint64_t>(end);
  }
  const auto next_off = static_cast<std::int64_t>(st.next_off);
  if (data.empty()) {
    // nothing to place
  } else if (end <= next_off) {
    ++stats_.tcp_retransmissions;
  } else if (off <= next_off) {
    deliver(st, data.subspan(static_cast<std::size_t>(next_off - off)), fi, out);
    st.next += static_cast<std::uint32_t>(end - next_off);
    st.next_off = static_cast<std::uint64_t>(end);
    drain(st, fi, out);
  } else {
    // Ahead of a hole. When holding it would break the per-stream bound, give up on the oldest hole:
    // the framer loses sync, so its partial message goes too.
    while (!st.ooo.empty() && st.ooo_bytes + data.size() > opt_.limits.max_stream_buffer) {
      ++stats_.tcp_gaps;
      stats_.tcp_bytes_dropped += st.framer->reset();
      const std::uint64_t to = st.ooo.begin()->first;
      st.next += static_cast<std::uint32_t>(to - st.next_off);
      st.next_off = to;
      drain(st, fi, out);
    }
    const auto uoff = static_cast<std::uint64_t>(off);
    if (uoff > st.next_off && data.size() > opt_.limits.max_stream_buffer) {
      ++stats_.tcp_gaps;
      stats_.tcp_bytes_dropped += st.framer->reset();
      st.next += static_cast<std::uint32_t>(uoff - st.next_off);
      st.next_off = uoff;
    }
    if (static_cast<std::uint64_t>(end) <= st.next_off) {
      stats_.tcp_bytes_dropped += data.size();  // the gaps given up above moved the stream past it
    } else if (uoff <= st.next_off) {
      deliver(st, data.subspan(static_cast<std::size_t>(st.next_off - uoff)), fi, out);
      st.next += static_cast<std::uint32_t>(static_cast<std::uint64_t>(end) - st.next_off);
      st.next_off = static_cast<std::uint64_t>(end);
      drain(st, fi, out);
    } else {
      auto [at, fresh] = st.ooo.try_emplace(uoff);
      if (fresh || at->second.size() < data.size()) {  // keep the longer of two segments at one place
        st.ooo_bytes = st.ooo_bytes - at->second.size() + data.size();
        at->second.assign(data.begin(), data.end());
      } else {
        ++stats_.tcp_retransmissions;
      }
    }
  }

  if (st.fin && st.next_off >= st.fin_off) {  // everything up to the FIN is in: the direction is closed
    drop(it, false);
    return;
  }
  account(st);
  while (buffered_ > opt_.limits.max_tcp_memory && !streams_.empty()) evict_oldest(std::string());
}

void TcpStreams::finish() {
  while (!streams_.empty()) drop(streams_.begin(), false);
}

}  // namespace kd::capture::detail
