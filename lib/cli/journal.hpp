// The response journal of a live service on disk: STATE.journal beside the state file, under the
// state file's lock, with its protections (kd-live(7), DURABILITY; the format: net/journal.hpp).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.hpp"

namespace kd::net {
struct Answered;  // net/transactions.hpp: cli's headers stay free of net (cli links it privately)
}

namespace kd::cli {

class ResponseJournal {
public:
  // Reads state_path + ".journal" (absent: empty) against the state file as it is now. Throws
  // IoError, changing nothing, on a journal that is a symbolic link, has a second hard link, is
  // not a journal or is damaged before its tail; warns (on standard error, as TOOL) of a torn
  // tail, of batches dropped, of a journal readable by others.
  ResponseJournal(const std::string& state_path, std::string_view tool);
  ~ResponseJournal();
  ResponseJournal(const ResponseJournal&) = delete;
  ResponseJournal& operator=(const ResponseJournal&) = delete;

  // The answers read (expiry in Unix milliseconds), handed over once.
  std::vector<net::Answered> take_loaded();
  // Replaces the journal by one batch of these answers (atomically, as the state file is saved)
  // and opens it for appending: at start, and when the journal has grown (compacting()).
  void rewrite(const std::vector<net::Answered>& answers);
  // Appends one batch and syncs it: the answers given since the last append, and new_state (the
  // state file's content about to be saved; nullptr: unchanged). Before the state is saved and
  // before any answer of the batch is sent.
  void append(const std::vector<net::Answered>& answers, const std::string* new_state);
  // True when the journal has grown past twice its size at the last rewrite (and 4 MiB).
  bool compacting() const;
  const std::string& path() const { return path_; }

private:
  std::string path_;
  int fd_ = -1;
  Bytes digest_;  // of the state file's content the journal's last batch names
  std::size_t size_ = 0, rewritten_size_ = 0;
  std::vector<net::Answered> loaded_;
};

}  // namespace kd::cli
