// The journal of a live service on disk: STATE.journal beside the state file, under the state
// file's lock, with its protections (kd-live(7), DURABILITY; the format: net/journal.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.hpp"
#include "net/sync_thread.hpp"

namespace kd::net {

// net/transactions.hpp, net/journal.hpp
struct Answered;
struct AnswerRef;
class Report;
struct PendingRequest;
struct SentRequest;
struct Batch;

// Every tool that takes --state calls this once it holds the state file's lock, before it reads
// the state: when STATE.journal holds role state changes (a service stopped by a crash), they are
// applied to the state file, which is saved, and the journal is rewritten without them (its
// answers kept). Throws IoError, changing nothing, on a journal refused (see ResponseJournal) or
// whose changes do not go with the state file. Warnings go to report (readable by others: on
// standard error as TOOL).
void fold_journal(const std::string& state_path, std::string_view tool, Report& report);

class ResponseJournal {
public:
  // Reads state_path + ".journal" (absent: empty) against the state file as it is now, after
  // fold_journal. Throws IoError, changing nothing, on a journal that is a symbolic link, has a
  // second hard link, is not a journal or is damaged before its tail; warns (through report) of a
  // torn tail and of answers dropped, and (on standard error, as TOOL) of a journal readable by others.
  ResponseJournal(const std::string& state_path, std::string_view tool, Report& report);
  ~ResponseJournal();
  ResponseJournal(const ResponseJournal&) = delete;
  ResponseJournal& operator=(const ResponseJournal&) = delete;

  // The answers read (expiry in Unix milliseconds), and the requests under way at the end of the
  // journal, each handed over once.
  std::vector<Answered> take_loaded();
  std::vector<PendingRequest> take_pending();
  std::vector<SentRequest> take_sent();
  // The local UDP port each --peer role was sent to from, as the journal last said.
  std::map<std::string, std::uint16_t> take_ports() { return std::move(ports_); }
  // Writes state_text as the state file (atomically), after a snapshot record that names it in
  // the journal: the journal's changes so far are in it. Then rewrite() starts a journal on it.
  void snapshot(const std::string& state_text);
  // Replaces the journal by its base record (the state file as last saved) and one batch of the
  // answers answers() hands to its argument (straight from the cache) and of now's requests under
  // way (no changes), atomically, and opens it to write batches after it: at start, and after each
  // snapshot.
  // Written a piece at a time (256 KiB): a buffer the size of the cache, fresh at each
  // rewrite, cost more than encoding it.
  using Answers = std::function<void(const std::function<void(const AnswerRef&)>&)>;
  void rewrite(const Batch& now, const Answers& answers = {});
  // Where the batch under way gathers its answer records, each written as it is given
  // (encode_answer), and then its changes record (encode_changes), until append() ends it; its
  // capacity is kept from batch to batch.
  std::string& batch() { return batch_; }
  // Appends one batch and syncs it (written in place over zeros the journal was extended by, see
  // write_synced): the records in batch() (given since the last append), then
  // rest's role state changes (if not in batch() already), requests opened and settled, and ports (rest.answers too, if any).
  // Before anything of the batch is sent. One write(2) and one fdatasync(2): here, or with
  // sync_in_background(), on the sync thread, together with the batches appended while the sync
  // before ran; then after_sync() says what waits for it.
  void append(const Batch& rest);
  // From here on append() leaves the write and sync to a thread of their own, which hands what
  // waits for them to post (Loop::post), so that the loop goes on handling the next batch.
  void sync_in_background(SyncThread::Post post);
  // Runs f once every batch appended so far is durable: at once without a sync under way (or
  // without sync_in_background()), else on the loop's thread after that sync, in order.
  void after_sync(std::function<void()> f);
  // Whether anything appended is not yet known durable, or waits for it to be.
  bool syncing() const { return sync_ && sync_->busy(); }
  // Waits for every append to be durable and runs what waits for it.
  void drain() {
    if (sync_) sync_->drain();
  }
  // True when the journal has grown past max(4 MiB, its size at the last rewrite plus three times
  // that and the state file's size): time for a snapshot, whose cost is then spread over three
  // times as many bytes of journal as the state file holds.
  bool compacting() const;
  // Whether anything was appended since the last rewrite(): else the state file and the journal
  // hold all there is, and a clean stop has nothing to save.
  bool appended() const { return size_ != rewritten_size_; }
  // The bytes the journal holds, without the zeros after them (write_synced).
  std::size_t size() const { return size_; }
  bool has_state_file() const { return state_saved_; }
  const std::string& path() const { return path_; }

private:
  // Writes bytes at the journal's end, in place over the zeros it was extended by (extending it by
  // kReserveStep first when they run out), and syncs them: on the sync thread after
  // sync_in_background(), else on the caller's.
  void write_synced(std::string_view bytes);

  std::string state_path_, path_;
  int fd_ = -1;
  // Where the next batch goes, and the end of the zeros after it; the writer's own (the sync
  // thread's while it runs: rewrite() drains it before setting them).
  struct Tail {
    std::uint64_t end = 0, reserved = 0;
    bool extend = true;  // false once extending failed (no room for the zeros)
  } tail_;
  Bytes digest_;  // of the state file's content
  bool state_saved_ = false;
  std::size_t size_ = 0, rewritten_size_ = 0, state_size_ = 0;
  std::vector<Answered> loaded_;
  std::vector<PendingRequest> pending_;
  std::vector<SentRequest> sent_;
  std::map<std::string, std::uint16_t> ports_;
  std::string batch_;
  std::string chunk_;  // rewrite()'s
  std::unique_ptr<SyncThread> sync_;  // after sync_in_background(); before fd_ is closed, ended
};

}  // namespace kd::net
