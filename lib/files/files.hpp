// File plumbing for the tools and the services: whole-file reads, atomic replacement, synced
// appends, and an exclusive lock so that two runs on one state file never interleave. A part of its
// own, so that the parts that must not touch files (flow, crypto) cannot link it. Errors are
// IoError (core/run_error.hpp).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/run_error.hpp"

namespace kd::files {

// nullopt when the file does not exist; throws IoError on any other failure, naming the file as
// "WHAT PATH" (what: "keystore", "state file"...; empty: the path alone).
std::optional<std::string> read_file(const std::string& path, std::string_view what = {});
// Throws IoError ("cannot read WHAT PATH: it is a directory") when path names something the tools
// do not read: they read regular files, pipes and character devices (/dev/null, a terminal) only;
// a directory would read as empty, with no error. A path that does not exist passes (opening it
// says so).
void check_readable(const std::string& path, std::string_view what);
// Writes to a temporary file beside path (mode 0600), fsyncs it, renames it over path and fsyncs
// the directory: a reader sees the old file or the new one, never a mixture.
void write_file_atomic(const std::string& path, const std::string& data);
// The same, the content written a piece at a time as fill hands each to write (a large file,
// such as a service's journal rewritten, needs no buffer of its size). What fill throws removes
// the temporary file and leaves path as it was.
void write_file_atomic(const std::string& path,
                       const std::function<void(const std::function<void(std::string_view)>&)>& fill);
// Opens path for writing from its start (created mode 0644 when absent, emptied when present): an
// output a tool streams into, such as kd-term load's --stats. A symbolic link (whose target could be
// any file the user may write), a directory and a FIFO that nothing reads (open would wait for a
// reader for ever) are refused with a message saying so. Throws
// IoError naming the file as "WHAT PATH"; the caller closes the descriptor.
int open_replace(const std::string& path, std::string_view what);
// open(2) of path with flags (and mode, when it creates) that does not wait for a FIFO's reader: a
// FIFO that nothing reads fails at once with ENXIO; the descriptor returned blocks as usual. -1 with
// errno set on failure; the caller words the error (open_replace, capture's --pcap-out writer).
int open_not_waiting(const std::string& path, int flags, unsigned mode = 0);
// Opens path for writing at offsets the caller chooses (created mode 0600 when absent, kept as it
// is when present; a symbolic link is refused); the caller closes the descriptor. Throws IoError
// naming the file as "WHAT PATH".
int open_write(const std::string& path, std::string_view what);
// Writes data at offset (pwrite(2), whole); zeros when data is empty and n zero bytes are asked
// for with write_zeros_at. Neither syncs: sync_data does (fdatasync(2)). Throw IoError.
void write_at(int fd, std::uint64_t offset, std::string_view data, const std::string& path, std::string_view what);
void write_zeros_at(int fd, std::uint64_t offset, std::uint64_t n, const std::string& path, std::string_view what);
void sync_data(int fd, const std::string& path, std::string_view what);
// True when the file's mode grants any permission to group or others.
bool readable_by_others(const std::string& path);
// True when a and b name the same file: one existing file under both (the same device and inode:
// a hard link, a symbolic link, another spelling), or, where one does not exist yet, the same
// path once its directories' symbolic links and "." and ".." are resolved.
bool same_file(const std::string& a, const std::string& b);
// When the file's mode grants anything to group or others, one line on standard error:
// "TOOL: warning: WHAT PATH is readable by group or others (chmod 600 PATH)" (what may be empty).
void warn_if_readable(std::string_view tool, std::string_view what, const std::string& path);

// A file kd locks and replaces (a state file, a keystore being changed) must be a regular file
// with one name, or absent: a symbolic link or a second hard link would be read through one name
// and locked through another, so one input could be accepted twice. Throws IoError otherwise.
void check_replaceable(const std::string& path, std::string_view what);

class FileLock {
public:
  // Locks path + ".lock" (created mode 0600; a symbolic link there is refused), after
  // check_replaceable(path), which it repeats once the lock is held.
  // what names the file in messages ("state file", "keystore").
  FileLock(const std::string& path, std::string_view what);
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

private:
  int fd_ = -1;
};

}  // namespace kd::files
