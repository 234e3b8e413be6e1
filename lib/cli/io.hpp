// File plumbing for the tools: whole-file reads, atomic replacement, and an exclusive lock so that
// two runs on one state file never interleave.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace kd::cli {

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
