// The group-commit window of a live service (kd-live(7), DURABILITY): pure, on the caller's clock
// (microseconds), so that its rule is tested with a fake one; the loop (net/loop.cpp) only waits.
// A sync costs the same for one datagram's changes as for sixty-four's, and a batch taken as soon
// as the socket is readable is small under load: after a batch that has something to sync, the
// loop goes on receiving and handling for up to the window, or until max_datagrams were handled,
// and then commits them all with one sync before anything they answer is sent.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kd::net {

class CommitWindow {
public:
  // window_us 0: every batch is committed at once (no datagram waits for another).
  explicit CommitWindow(std::uint64_t window_us = 0, std::size_t max_datagrams = 64)
      : window_us_(window_us), max_(max_datagrams == 0 ? 1 : max_datagrams) {}

  // A batch of n datagrams was handled at now_us; dirty: what it changed waits for a sync. The
  // window opens with the first dirty batch since the last commit.
  void handled(std::size_t n, bool dirty, std::uint64_t now_us) {
    handled_ += n;
    if (dirty && !open_) {
      open_ = true;
      opened_us_ = now_us;
    }
  }
  // Whether to commit now: nothing waits for a sync (sending costs no sync, so nothing waits), the
  // window is over, or it holds max_datagrams.
  bool due(std::uint64_t now_us) const {
    return !open_ || handled_ >= max_ || now_us >= opened_us_ + window_us_;
  }
  // When the window ends (meaningful while !due()).
  std::uint64_t deadline_us() const { return opened_us_ + window_us_; }
  // How many more datagrams the window takes.
  std::size_t room() const { return handled_ >= max_ ? 0 : max_ - handled_; }
  void committed() {
    open_ = false;
    handled_ = 0;
  }

private:
  std::uint64_t window_us_;
  std::size_t max_;
  std::size_t handled_ = 0;
  bool open_ = false;
  std::uint64_t opened_us_ = 0;
};

}  // namespace kd::net
