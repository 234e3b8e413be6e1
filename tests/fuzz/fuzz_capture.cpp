// libFuzzer entry point for the capture reader: any bytes, as a pcap or pcapng file, must be read
// to the end (or to a clean error) without crashing, leaking, hanging or growing without bound.
#include <cstddef>
#include <cstdint>

#include "capture/capture.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  kd::capture::Options options;
  // Small bounds make the eviction and give-up paths reachable with small inputs.
  options.limits.max_reassemblies = 4;
  options.limits.reassembly_frames = 8;
  options.limits.max_streams = 4;
  options.limits.max_stream_buffer = 4096;
  options.limits.max_tcp_memory = 16384;
  auto reader = kd::capture::Reader::from_memory(kd::ByteView(data, size), options);
  if (!reader) return 0;
  kd::capture::Packet p;
  std::uint64_t n = 0;
  while (reader->next(p)) ++n;
  // The count the tools report must match what was delivered.
  if (n != reader->stats().packets) __builtin_trap();
  return 0;
}
