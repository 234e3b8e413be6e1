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

class FileLock {
public:
  explicit FileLock(const std::string& path);  // locks path + ".lock"
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

private:
  int fd_ = -1;
};

}  // namespace kd::cli
