#include "cli/journal.hpp"

#include <algorithm>
#include <iostream>

#include <unistd.h>

#include "cli/io.hpp"
#include "crypto/suite.hpp"
#include "net/journal.hpp"
#include "net/transactions.hpp"

namespace kd::cli {

namespace {

constexpr std::string_view kWhat = "journal";
constexpr std::size_t kCompactAtLeast = std::size_t{4} << 20;

Bytes digest_of(std::string_view state) {
  return crypto::hash(crypto::HashId::sha256, ByteView(reinterpret_cast<const std::uint8_t*>(state.data()), state.size()));
}

}  // namespace

ResponseJournal::ResponseJournal(const std::string& state_path, std::string_view tool)
    : path_(state_path + ".journal") {
  check_replaceable(path_, kWhat);
  const auto state = read_file(state_path, "state file");
  digest_ = digest_of(state ? *state : std::string());
  const auto text = read_file(path_, kWhat);
  if (!text) return;
  warn_if_readable(tool, kWhat, path_);
  net::JournalContents c;
  if (auto why = net::decode_journal(*text, digest_, c)) throw IoError{std::string(kWhat) + " " + path_ + ": " + *why};
  const std::string name = printable(path_);
  if (c.torn_at)
    std::cerr << tool << ": warning: journal " << name << ": a torn tail (" << text->size() - *c.torn_at
              << " bytes from byte " << *c.torn_at << ", a write the crash cut short) is ignored\n";
  if (!c.state_matched)
    std::cerr << tool << ": warning: journal " << name
              << ": no batch names the state file as it is (was it changed by another run?): its " << c.batches_dropped
              << " batches of answers are dropped\n";
  else if (c.batches_dropped > 0)
    std::cerr << tool << ": note: journal " << name << ": " << c.batches_dropped
              << " batches whose state change was never saved are dropped (their answers were never sent)\n";
  loaded_ = std::move(c.answers);
}

std::vector<net::Answered> ResponseJournal::take_loaded() { return std::move(loaded_); }

ResponseJournal::~ResponseJournal() {
  if (fd_ >= 0) ::close(fd_);
}

void ResponseJournal::rewrite(const std::vector<net::Answered>& answers) {
  std::string text(net::kJournalMagic);
  net::encode_batch(text, answers, digest_);
  check_replaceable(path_, kWhat);
  write_file_atomic(path_, text);
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  fd_ = open_append(path_, kWhat);
  size_ = rewritten_size_ = text.size();
}

void ResponseJournal::append(const std::vector<net::Answered>& answers, const std::string* new_state) {
  if (new_state) digest_ = digest_of(*new_state);
  std::string batch;
  net::encode_batch(batch, answers, digest_);
  append_synced(fd_, batch, path_, kWhat);
  size_ += batch.size();
}

bool ResponseJournal::compacting() const { return size_ > std::max(kCompactAtLeast, 2 * rewritten_size_); }

}  // namespace kd::cli
