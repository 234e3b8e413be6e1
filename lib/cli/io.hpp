// File plumbing for the tools: whole-file reads, atomic replacement, and an exclusive lock so that
// two runs on one state file never interleave.
#pragma once

#include <optional>
#include <string>

namespace kd::cli {

// nullopt when the file does not exist; throws IoError on any other failure.
std::optional<std::string> read_file(const std::string& path);
// Writes to a temporary file beside path (mode 0600), fsyncs it, renames it over path and fsyncs
// the directory: a reader sees the old file or the new one, never a mixture.
void write_file_atomic(const std::string& path, const std::string& data);
// True when the file's mode grants any permission to group or others.
bool readable_by_others(const std::string& path);

struct IoError {
  std::string what;
};

// A file kd locks and replaces (a state file, a keystore being changed) must be a regular file
// with one name, or absent: a symbolic link or a second hard link would be read through one name
// and locked through another, so one input could be accepted twice. Throws IoError otherwise.
void check_replaceable(const std::string& path);

class FileLock {
public:
  // Locks path + ".lock" (created mode 0600; a symbolic link there is refused), after
  // check_replaceable(path), which it repeats once the lock is held.
  explicit FileLock(const std::string& path);
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

private:
  int fd_ = -1;
};

}  // namespace kd::cli
