#include "net/response_journal.hpp"

#include <algorithm>

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "core/run_error.hpp"
#include "crypto/suite.hpp"
#include "files/files.hpp"
#include "json/state.hpp"
#include "net/journal.hpp"
#include "net/service.hpp"
#include "net/transactions.hpp"

namespace kd::net {

using files::check_replaceable;
using files::open_write;
using files::read_file;
using files::warn_if_readable;
using files::write_file_atomic;

namespace {

constexpr std::string_view kWhat = "journal";
constexpr std::size_t kCompactAtLeast = std::size_t{4} << 20;
// A compaction writes what the last rewrite wrote (the cached answers) and the state file again:
// waiting until the journal has grown by this many times that makes each byte appended cost a
// third of a byte written again. At once (1) it was a sixth of each service's CPU under load.
constexpr std::size_t kCompactAfter = 3;
// rewrite() writes its records by pieces of about this size (the buffer is kept).
constexpr std::size_t kRewriteChunk = std::size_t{256} << 10;
// The journal is extended by this many zero bytes at a time, written and synced with the batch that
// needs them; batches are then written in place over the zeros. An fdatasync(2) of a file that
// grew also writes its inode: one more write the disk waits for, at every sync (measured on ext4:
// 174 us for an append, 115 us in place, median). 4 MiB took 6-8 ms to write and sync, once per
// 4 MiB of batches.
constexpr std::uint64_t kReserveStep = std::uint64_t{4} << 20;

Bytes digest_of(std::string_view state) {
  return crypto::hash(crypto::HashId::sha256, ByteView(reinterpret_cast<const std::uint8_t*>(state.data()), state.size()));
}

std::string journal_path(const std::string& state_path) { return state_path + ".journal"; }

// The journal's contents against the state file's text; nullopt when there is no journal.
std::optional<JournalContents> read_journal(const std::string& path, const std::string& state,
                                                 std::string_view tool, Report& report, std::size_t* size = nullptr) {
  check_replaceable(path, kWhat);
  const auto text = read_file(path, kWhat);
  if (!text) return std::nullopt;
  warn_if_readable(tool, kWhat, path);
  JournalContents c;
  if (auto why = decode_journal(*text, digest_of(state), c)) throw IoError{std::string(kWhat) + " " + path + ": " + *why};
  const std::string name = printable(path);
  // Zeros after the last batch are the room the journal was extended by (kReserveStep), not a
  // write cut short.
  const bool zeros = c.torn_at && std::all_of(text->begin() + static_cast<std::ptrdiff_t>(*c.torn_at), text->end(),
                                             [](char ch) { return ch == 0; });
  if (c.torn_at && !zeros)
    report.diagnostic("warning: journal " + name + ": a torn tail (" + std::to_string(text->size() - *c.torn_at) +
                      " bytes from byte " + std::to_string(*c.torn_at) + ", a write cut short by a crash or a failed write, never acted on) is ignored");
  if (!c.state_matched && c.changes_unmatched > 0)
    throw IoError{std::string(kWhat) + " " + path + ": it holds state changes of " + std::to_string(c.changes_unmatched) +
                  " batches for another version of the state file (was the state file replaced since the service "
                  "stopped?); kd will not guess: restore the state file it goes with, or remove the journal to "
                  "start from the state file as it is"};
  if (size) *size = text->size();
  return c;
}

}  // namespace

void fold_journal(const std::string& state_path, std::string_view tool, Report& report) {
  const std::string path = journal_path(state_path);
  // A state file whose name leaves no room for ".journal" (NAME_MAX) can have no journal: a
  // filter goes on to the state file's own errors; a service fails when it writes the journal.
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 && errno == ENAMETOOLONG) return;
  auto state = read_file(state_path, "state file").value_or(std::string());
  auto c = read_journal(path, state, tool, report);
  if (!c || c->changes.empty()) return;
  auto next = json::apply_state_changes(state, c->changes);
  if (!next) throw IoError{std::string(kWhat) + " " + path + ": " + next.error().detail};
  state = std::move(*next);
  // The answers stay, on the state they were given with.
  std::string text(kJournalMagic);
  encode_base(text, digest_of(state));
  Batch kept{std::move(c->answers), nullptr, std::move(c->pending), std::move(c->sent), {}, {}};
  kept.ports.assign(c->ports.begin(), c->ports.end());
  encode_batch(text, kept);
  write_file_atomic(state_path, state);
  write_file_atomic(path, text);
}

ResponseJournal::ResponseJournal(const std::string& state_path, std::string_view tool, Report& report)
    : state_path_(state_path), path_(journal_path(state_path)) {
  const auto state = read_file(state_path, "state file");
  state_saved_ = state.has_value();
  digest_ = digest_of(state ? *state : std::string());
  state_size_ = state ? state->size() : 0;
  auto c = read_journal(path_, state.value_or(std::string()), tool, report);
  if (!c) return;
  if (!c->changes.empty()) throw IoError{std::string(kWhat) + " " + path_ + ": changes not folded into the state file"};
  ports_ = std::move(c->ports);
  if (!c->state_matched)
    report.diagnostic("warning: journal " + printable(path_) +
                      ": neither its base nor a snapshot is the state file as it is (was it changed by another run?): "
                      "its answers are dropped");
  if (!c->state_matched) return;
  loaded_ = std::move(c->answers);
  pending_ = std::move(c->pending);
  sent_ = std::move(c->sent);
}

std::vector<Answered> ResponseJournal::take_loaded() { return std::move(loaded_); }
std::vector<PendingRequest> ResponseJournal::take_pending() { return std::move(pending_); }
std::vector<SentRequest> ResponseJournal::take_sent() { return std::move(sent_); }

ResponseJournal::~ResponseJournal() {
  sync_.reset();  // it writes to fd_
  if (fd_ < 0) return;
  // The zeros it was extended by are not needed once no batch will be written over them: a
  // journal left behind is no larger than what it holds (a failure leaves them, which a start
  // reads as the room they are).
  if (tail_.reserved > tail_.end) {
    [[maybe_unused]] const int failed = ::ftruncate(fd_, static_cast<off_t>(tail_.end));
  }
  ::close(fd_);
}

void ResponseJournal::write_synced(std::string_view bytes) {
  files::write_at(fd_, tail_.end, bytes, path_, kWhat);
  tail_.end += bytes.size();
  if (tail_.end > tail_.reserved && tail_.extend) {
    const std::uint64_t to = (tail_.end / kReserveStep + 1) * kReserveStep;
    try {
      files::write_zeros_at(fd_, tail_.end, to - tail_.end, path_, kWhat);
      tail_.reserved = to;
    } catch (const IoError&) {
      // No room for the zeros (a disk nearly full): the batch itself is written; the journal
      // grows by its batches from here on, as far as the disk allows, until the next rewrite.
      if (::ftruncate(fd_, static_cast<off_t>(tail_.end)) != 0) throw;
      tail_.extend = false;
    }
  }
  files::sync_data(fd_, path_, kWhat);
}

void ResponseJournal::snapshot(const std::string& state_text) {
  const Bytes digest = digest_of(state_text);
  drain();  // the snapshot record follows every batch, and the journal is replaced after it
  if (fd_ >= 0) {
    std::string record;
    encode_snapshot(record, digest);
    write_synced(record);
    size_ += record.size();
  }
  write_file_atomic(state_path_, state_text);
  digest_ = digest;
  state_saved_ = true;
  state_size_ = state_text.size();
}

void ResponseJournal::rewrite(const Batch& now, const Answers& answers) {
  drain();
  check_replaceable(path_, kWhat);
  std::size_t written = 0;
  write_file_atomic(path_, [&](const std::function<void(std::string_view)>& write) {
    std::string& out = chunk_;
    auto flush = [&] {
      write(out);
      written += out.size();
      out.clear();
    };
    out.assign(kJournalMagic);
    encode_base(out, digest_);
    if (answers)
      answers([&](const AnswerRef& a) {
        encode_answer(out, a);
        if (out.size() >= kRewriteChunk) flush();
      });
    encode_batch(out, now);
    flush();
  });
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  fd_ = open_write(path_, kWhat);
  size_ = rewritten_size_ = written;
  tail_ = Tail{written, written};
}

void ResponseJournal::append(const Batch& rest) {
  encode_batch(batch_, rest);
  size_ += batch_.size();
  if (sync_) return sync_->write(batch_);
  write_synced(batch_);
  batch_.clear();
}

void ResponseJournal::sync_in_background(SyncThread::Post post) {
  // fd_ changes only in rewrite(), which drains the thread first.
  sync_ = std::make_unique<SyncThread>([this](std::string_view bytes) { write_synced(bytes); },
                                       std::move(post));
}

void ResponseJournal::after_sync(std::function<void()> f) {
  if (sync_) sync_->then(std::move(f));
  else f();
}

bool ResponseJournal::compacting() const {
  return size_ > std::max(kCompactAtLeast, rewritten_size_ + kCompactAfter * (rewritten_size_ + state_size_));
}

}  // namespace kd::net
