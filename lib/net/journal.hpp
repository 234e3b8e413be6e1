// The response journal of a live service (kd-live(7), DURABILITY), as bytes: pure, no file is
// touched here (lib/cli/journal does the files). Each batch of answered server transactions is
// appended as records, then a commit record naming the digest of the state file the batch goes
// with; reading keeps the batches up to the last one whose digest is the state file's, so a batch
// whose state change never reached the disk (a crash between the journal's fsync and the state's
// save) is dropped with it.
//
// File: the 8 bytes "KDJRNL1\n", then records: a 4-byte big-endian payload length, the CRC-32
// (IEEE 802.3) of the payload, 4 bytes big-endian, then the payload:
//   'A' answer:  expiry (8, Unix milliseconds), socket (4), family (1: 4 or 6), address (16),
//                port (2), request length (4), request, answer length (4), answer
//   'C' commit:  digest length (1), digest (SHA-256 of the state file's content)
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.hpp"
#include "net/transactions.hpp"

namespace kd::net {

inline constexpr std::string_view kJournalMagic = "KDJRNL1\n";

std::uint32_t crc32(ByteView data);

// Appends to out a batch: one record per answer (expires_ms as Unix milliseconds), then the
// commit record of state_digest.
void encode_batch(std::string& out, const std::vector<Answered>& answers, ByteView state_digest);

struct JournalContents {
  std::vector<Answered> answers;       // of the batches kept, in journal order
  std::size_t batches_kept = 0;
  std::size_t batches_dropped = 0;     // complete batches after the last that matches the state
  bool state_matched = true;           // false: no batch names the state file (all dropped)
  std::optional<std::size_t> torn_at;  // the offset of a torn tail, ignored
};

// Reads a journal's bytes against the digest of the state file. An empty text is an empty
// journal. A message when the text is not a journal, or is damaged before its tail: a record
// that fails its checksum, or is not one, with more records after it. A bad last record (or
// zero bytes to the end) is a torn tail: a write the crash cut short.
std::optional<std::string> decode_journal(std::string_view text, ByteView state_digest, JournalContents& out);

}  // namespace kd::net
