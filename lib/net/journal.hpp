// The journal of a live service (kd-live(7), DURABILITY), as bytes: pure, no file is touched here
// (lib/cli/journal does the files). A service appends one batch per group commit: the answers it
// is about to send and the entries of its role state that the batch changed, then a commit record;
// only then does it send. The state file is a snapshot, rewritten only when the journal is
// compacted: the journal's changes since the snapshot, applied to it, are the state. So a commit
// costs what the batch changed, not what the state holds.
//
// File: the 8 bytes "KDJRNL2\n", then records: a 4-byte big-endian payload length, the CRC-32
// (IEEE 802.3) of the payload, 4 bytes big-endian, then the payload, whose first byte is its kind:
//   'B' base:     digest length (1), digest (SHA-256 of the state file the changes that follow
//                 apply to); the first record
//   'A' answer:   expiry (8, Unix milliseconds), socket (4), family (1: 4 or 6), address (16),
//                 port (2), request length (4), request, answer length (4), answer
//   'S' changes:  the role state's entries changed by the batch (JSON, json::encode_state_changes)
//   'C' commit:   ends a batch; a batch without one was never acted on and is dropped
//   'N' snapshot: digest length (1), digest: the state file about to be written holds every
//                 change before this record (compaction; a crash before the journal is rewritten
//                 leaves both, and the digest tells which changes the state file already has)
//   'P' pending:  a request the role accepted and will answer later: name length (2), name,
//                 expiry (8, Unix ms), socket (4), family (1), address (16), port (2), request
//                 length (4), request, txn length (1), txn
//   'Q' request:  a request the service sent and awaits the answer of: key length (2), key, label
//                 length (1), label, peer length (1), peer (its --peer role), request length (4),
//                 request
//   'L' port:     role length (1), role (a --peer role), port (2): the local UDP port the service
//                 sends to that peer from, kept across restarts
//   'X' settled:  kind (1: 'P' or 'Q'), key length (2), key: the pending request or the request
//                 sent is settled (answered, given up, or superseded)
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.hpp"
#include "net/transactions.hpp"

namespace kd::net {

inline constexpr std::string_view kJournalMagic = "KDJRNL2\n";

std::uint32_t crc32(ByteView data);

// Appends to out the base record (at the start of a journal) or a snapshot record.
void encode_base(std::string& out, ByteView state_digest);
void encode_snapshot(std::string& out, ByteView state_digest);
// Appends to out a batch: one record per answer (expires_ms as Unix milliseconds), the state's
// changes when there are any (nullptr: none), then the commit record.
// Requests under way at a crash, so that a restarted service goes on with them (kd-live(7),
// DURABILITY): one the role accepted and answers once its peer has (the server side), one it sent
// and awaits the answer of (the client side).
struct PendingRequest {
  std::string name;  // how the answer finds it (the server transaction's name)
  Address from;
  SocketId socket = 0;
  Bytes request;
  std::uint64_t expires_ms = 0;  // Unix ms
  std::string txn;               // a JSON request's transaction member, which its answer echoes
};
struct SentRequest {
  std::string key;    // the client transaction's key
  std::string label;  // the step ("s3")
  std::string peer;   // the --peer role it went to ("auc", "auc-acct", "switch", "proxy")
  Bytes request;
};
struct Settled {
  char kind = 'P';  // 'P' a PendingRequest, 'Q' a SentRequest
  std::string key;
};
struct Batch {
  std::vector<Answered> answers;
  const std::string* changes = nullptr;  // the role state's changes, or none
  std::vector<PendingRequest> pending;
  std::vector<SentRequest> sent;
  std::vector<Settled> settled;
  std::vector<std::pair<std::string, std::uint16_t>> ports;  // by --peer role: the local port
};
void encode_batch(std::string& out, const Batch& b);
// Appends to out a changes record whose payload write appends (the role state's changes written
// in place, json::append_state_changes): as end_batch() writes b.changes, for a service that
// writes them after its answers and then ends the batch without them. When write throws, out is
// as it was.
void encode_changes(std::string& out, const std::function<void(std::string&)>& write);
// The same in two steps, for a service that writes each answer into its batch as it gives it (no
// copy of the answer): encode_answer() per answer, then end_batch() with the rest of the batch
// (b.answers unused).
void encode_answer(std::string& out, const AnswerRef& a);
void end_batch(std::string& out, const Batch& b);
inline void encode_batch(std::string& out, const std::vector<Answered>& answers, const std::string* changes) {
  encode_batch(out, Batch{answers, changes, {}, {}, {}, {}});
}

struct JournalContents {
  std::vector<Answered> answers;       // of the committed batches, in journal order
  std::vector<std::string> changes;    // to apply to the state file, in order
  std::vector<PendingRequest> pending; // not settled at the end of the last committed batch
  std::vector<SentRequest> sent;       // the same
  std::map<std::string, std::uint16_t> ports;  // the last of each --peer role
  std::size_t batches_kept = 0;
  bool state_matched = true;           // false: neither the base nor a snapshot is the state file
  std::size_t changes_unmatched = 0;   // when !state_matched: batches whose changes are lost
  std::optional<std::size_t> torn_at;  // the offset of a torn tail (or uncommitted batch), ignored
};

// Reads a journal's bytes against the digest of the state file. An empty text is an empty
// journal. The changes to apply are those after the last base or snapshot record whose digest is
// the state file's. A message when the text is not a journal (one of an earlier kd included), or
// is damaged before its tail: a record that fails its checksum, or is not one, with more records
// after it. A bad last record (one with only zeros after the length it claims: a journal is written
// in place over zeros), zero bytes to the end, and a batch with no commit record after it, are a
// torn tail: a write the crash cut short (or, for zeros alone, the room the journal was extended by).
std::optional<std::string> decode_journal(std::string_view text, ByteView state_digest, JournalContents& out);

}  // namespace kd::net
