#include "net/sync_thread.hpp"

#include <utility>

namespace kd::net {

SyncThread::SyncThread(Sync sync, Post post) : sync_(std::move(sync)), post_(std::move(post)) {
  thread_ = std::thread([this] { run(); });
}

SyncThread::~SyncThread() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void SyncThread::write(std::string& bytes) {
  if (bytes.empty()) return;
  std::unique_lock lock(mutex_);
  synced_.wait(lock, [this] { return queued_.size() < kMaxQueued || failed_; });
  if (failed_) std::rethrow_exception(failed_);
  if (queued_.empty()) {
    queued_.swap(bytes);
  } else {
    queued_ += bytes;
    bytes.clear();
  }
  ++written_;
  lock.unlock();
  wake_.notify_one();
}

void SyncThread::then(std::function<void()> f) {
  std::uint64_t durable = 0;
  {
    std::lock_guard lock(mutex_);
    if (failed_) std::rethrow_exception(failed_);
    durable = durable_;
  }
  if (waiting_.empty() && durable >= written_) return f();
  waiting_.emplace_back(written_, std::move(f));
}

bool SyncThread::busy() const {
  if (!waiting_.empty()) return true;
  std::lock_guard lock(mutex_);
  return durable_ < written_;
}

void SyncThread::drain() {
  {
    std::unique_lock lock(mutex_);
    synced_.wait(lock, [this] { return durable_ >= written_ || failed_; });
  }
  complete();
}

void SyncThread::complete() {
  std::uint64_t durable = 0;
  {
    std::lock_guard lock(mutex_);
    if (failed_) std::rethrow_exception(failed_);
    durable = durable_;
  }
  while (!waiting_.empty() && waiting_.front().first <= durable) {
    auto f = std::move(waiting_.front().second);
    waiting_.pop_front();
    f();
  }
}

void SyncThread::run() {
  std::string taking;
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stop_ || !queued_.empty(); });
    if (stop_) return;
    // Everything queued goes by one write and one sync: batches handled while the last sync ran
    // share the next.
    taking.swap(queued_);
    const std::uint64_t covers = written_;
    lock.unlock();
    synced_.notify_all();  // room in the queue for a write() that waits
    std::exception_ptr failed;
    try {
      sync_(taking);
    } catch (...) {
      failed = std::current_exception();
    }
    taking.clear();  // its capacity goes back to queued_ at the next swap
    lock.lock();
    if (failed) failed_ = failed;
    else durable_ = covers;
    lock.unlock();
    synced_.notify_all();
    post_([this, alive = std::weak_ptr<char>(alive_)] {
      if (alive.lock()) complete();
    });
    if (failed) return;
    lock.lock();
  }
}

}  // namespace kd::net
