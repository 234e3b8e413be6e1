// The journal's write and fdatasync(2) off the event loop's thread (kd-live(7), DURABILITY). A
// service's loop spent a third of its time waiting for its disk: while one batch's records are
// being synced, the loop now goes on reading and handling the next batches, whose records queue
// and go by the next write and sync together. What a batch sends waits for its own records to be
// durable, and for those of every batch before it: it runs on the loop's thread, in the order it
// was queued, only once the sync that covers them has returned. The roles stay single-threaded:
// only the write and sync of bytes already encoded leave the loop's thread.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace kd::net {

class SyncThread {
public:
  // sync writes its bytes and makes them durable (ResponseJournal::write_synced); it runs on the
  // sync thread, and what it throws is rethrown on the loop's thread, ending the service before
  // anything waiting for it was sent. post hands a function to the loop's thread (Loop::post).
  using Sync = std::function<void(std::string_view)>;
  using Post = std::function<void(std::function<void()>)>;
  SyncThread(Sync sync, Post post);
  // Waits for the sync under way, if any; what is queued after it is neither written nor acted on.
  ~SyncThread();
  SyncThread(const SyncThread&) = delete;
  SyncThread& operator=(const SyncThread&) = delete;

  // Queues bytes to be written and synced after those queued before (bytes is left empty, most
  // often with the capacity of a buffer the sync thread is done with). Blocks while kMaxQueued bytes wait already (a disk that stalls holds
  // the loop rather than the memory of every batch it handles meanwhile).
  void write(std::string& bytes);
  // Runs then on the loop's thread once everything written so far is durable: at once when it is
  // and nothing else waits, else from the loop after the sync that covers it, in the order given.
  void then(std::function<void()> f);
  // Whether something written is not yet known durable, or something waits to run.
  bool busy() const;
  // Waits until everything written is durable and runs what waits for it (before the journal is
  // replaced, and at a stop). Rethrows the error of a sync that failed.
  void drain();

  // Bytes queued at most before write() waits for the sync thread.
  static constexpr std::size_t kMaxQueued = std::size_t{16} << 20;

private:
  void run();
  // On the loop's thread: what waits for syncs that have returned.
  void complete();

  Sync sync_;
  Post post_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;     // the sync thread: bytes queued, or the end
  std::condition_variable synced_;   // write() and drain(): a sync returned
  std::string queued_;               // written, not yet taken by the sync thread
  std::uint64_t written_ = 0;        // sequence of the last write()
  std::uint64_t durable_ = 0;        // the sync thread's: every write up to this one is durable
  std::exception_ptr failed_;
  bool stop_ = false;
  // The loop's thread only: functions waiting for the write of the given sequence.
  std::deque<std::pair<std::uint64_t, std::function<void()>>> waiting_;
  std::shared_ptr<char> alive_ = std::make_shared<char>();  // a post that comes after the end does nothing
  std::thread thread_;
};

}  // namespace kd::net
