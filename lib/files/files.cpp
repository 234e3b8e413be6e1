#include "files/files.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>
#include <iostream>
#include <vector>

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/bytes.hpp"

namespace kd::files {

namespace {
IoError sys_error(const std::string& what, const std::string& path) {
  return IoError{what + " " + path + ": " + std::strerror(errno)};
}

std::string label(std::string_view what, const std::string& path) {
  return what.empty() ? path : std::string(what) + " " + path;
}

// Holds off, in this thread and for its lifetime, the signals that end a tool (SIGINT, SIGTERM,
// SIGHUP, SIGQUIT): one that comes while a temporary file exists takes effect once the file is
// renamed over its target or removed, so that an interrupted save leaves the target whole (old or
// new) and no FILE.tmp.XXXXXX behind, a partial copy of a keystore with its keys. (Trial 9: SIGINT
// during keys add --count 300000 left one.) A service takes these signals on another thread or
// after the save, as before.
class HoldSignals {
public:
  HoldSignals() {
    sigset_t set;
    sigemptyset(&set);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaddset(&set, sig);
    ::pthread_sigmask(SIG_BLOCK, &set, &old_);
  }
  ~HoldSignals() { ::pthread_sigmask(SIG_SETMASK, &old_, nullptr); }
  HoldSignals(const HoldSignals&) = delete;
  HoldSignals& operator=(const HoldSignals&) = delete;

private:
  sigset_t old_{};
};
}  // namespace

void check_readable(const std::string& path, std::string_view what) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return;
  const mode_t m = st.st_mode;
  if (S_ISREG(m) || S_ISFIFO(m) || S_ISCHR(m)) return;
  const char* kind = S_ISDIR(m) ? "a directory" : S_ISSOCK(m) ? "a socket" : S_ISBLK(m) ? "a block device" : "not a file";
  throw IoError{"cannot read " + label(what, path) + ": it is " + std::string(kind) +
                " (a regular file, a pipe or a character device is read)"};
}

std::optional<std::string> read_file(const std::string& path, std::string_view what) {
  check_readable(path, what);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::nullopt;
    throw sys_error("cannot open", label(what, path));
  }
  std::string out;
  char buf[65536];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      IoError e = sys_error("cannot read", label(what, path));
      ::close(fd);
      throw e;
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

void write_file_atomic(const std::string& path, const std::string& data) {
  write_file_atomic(path, [&data](const std::function<void(std::string_view)>& write) { write(data); });
}

void write_file_atomic(const std::string& path, const std::function<void(const std::function<void(std::string_view)>&)>& fill) {
  std::string dir = ".";
  if (auto slash = path.rfind('/'); slash != std::string::npos) dir = slash == 0 ? "/" : path.substr(0, slash);
  std::string tmpl = path + ".tmp.XXXXXX";
  std::vector<char> name(tmpl.begin(), tmpl.end());
  name.push_back('\0');
  const HoldSignals hold;  // from before the temporary file exists until it is renamed or removed
  int fd = ::mkstemp(name.data());
  if (fd < 0) throw sys_error("cannot create a temporary file for", path);
  auto fail = [&](const char* what) {
    IoError e = sys_error(what, path);
    ::close(fd);
    fd = -1;
    ::unlink(name.data());
    throw e;
  };
  if (::fchmod(fd, 0600) != 0) fail("cannot set the mode of");
  try {
    fill([&](std::string_view data) {
      std::size_t off = 0;
      while (off < data.size()) {
        ssize_t n = ::write(fd, data.data() + off, data.size() - off);
        if (n < 0) {
          if (errno == EINTR) continue;
          fail("cannot write");
        }
        off += static_cast<std::size_t>(n);
      }
    });
  } catch (...) {
    if (fd >= 0) {  // fill's own failure: the temporary file goes
      ::close(fd);
      ::unlink(name.data());
    }
    throw;
  }
  if (::fsync(fd) != 0) fail("cannot sync");
  if (::close(fd) != 0) {
    IoError e = sys_error("cannot close", path);
    ::unlink(name.data());
    throw e;
  }
  if (::rename(name.data(), path.c_str()) != 0) {
    IoError e = sys_error("cannot replace", path);
    ::unlink(name.data());
    throw e;
  }
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

int open_not_waiting(const std::string& path, int flags, unsigned mode) {
  const int fd = ::open(path.c_str(), flags | O_NONBLOCK, static_cast<mode_t>(mode));
  if (fd < 0) return -1;
  const int now = ::fcntl(fd, F_GETFL);
  if (now >= 0 && ::fcntl(fd, F_SETFL, now & ~O_NONBLOCK) == 0) return fd;
  const int e = errno;
  ::close(fd);
  errno = e;
  return -1;
}

int open_replace(const std::string& path, std::string_view what) {
  // A FIFO that nothing reads is refused (ENXIO), not waited for in open(2) for ever.
  const int fd = open_not_waiting(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd >= 0) return fd;
  if (errno == ELOOP) throw IoError{label(what, path) + ": a symbolic link: name the file itself"};
  if (errno == EISDIR) throw IoError{label(what, path) + ": a directory: name a file"};
  if (errno == ENXIO) throw IoError{label(what, path) + ": a FIFO that nothing reads: its lines would wait for ever (start its reader first)"};
  throw IoError{label(what, path) + ": cannot write it: " + std::strerror(errno)};
}

int open_write(const std::string& path, std::string_view what) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd >= 0) return fd;
  if (errno == ELOOP) throw IoError{label(what, path) + " is a symbolic link: name the file itself"};
  throw sys_error("cannot open", label(what, path));
}

void write_at(int fd, std::uint64_t offset, std::string_view data, const std::string& path, std::string_view what) {
  std::size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::pwrite(fd, data.data() + off, data.size() - off, static_cast<off_t>(offset + off));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw sys_error("cannot write", label(what, path));
    }
    off += static_cast<std::size_t>(n);
  }
}

void write_zeros_at(int fd, std::uint64_t offset, std::uint64_t n, const std::string& path, std::string_view what) {
  static const std::string zeros(std::size_t{64} << 10, '\0');
  while (n > 0) {
    const std::size_t piece = static_cast<std::size_t>(std::min<std::uint64_t>(n, zeros.size()));
    write_at(fd, offset, std::string_view(zeros).substr(0, piece), path, what);
    offset += piece, n -= piece;
  }
}

void sync_data(int fd, const std::string& path, std::string_view what) {
  if (::fdatasync(fd) != 0) throw sys_error("cannot sync", label(what, path));
}

bool same_file(const std::string& a, const std::string& b) {
  struct stat sa{}, sb{};
  const bool has_a = ::stat(a.c_str(), &sa) == 0, has_b = ::stat(b.c_str(), &sb) == 0;
  if (has_a && has_b) return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
  std::error_code ea, eb;
  const auto ca = std::filesystem::weakly_canonical(std::filesystem::absolute(a, ea), ea);
  const auto cb = std::filesystem::weakly_canonical(std::filesystem::absolute(b, eb), eb);
  return !ea && !eb && ca == cb;
}

bool readable_by_others(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return false;
  return (st.st_mode & 077) != 0;
}

void warn_if_readable(std::string_view tool, std::string_view what, const std::string& path) {
  if (!readable_by_others(path)) return;
  std::cerr << tool << ": warning: " << printable(label(what, path)) << " is readable by group or others (chmod 600 "
            << printable(path) << ")\n";
}

void check_replaceable(const std::string& path, std::string_view what) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return;
    throw sys_error("cannot examine", label(what, path));
  }
  const std::string name = label(what, path);
  if (S_ISLNK(st.st_mode))
    throw IoError{name + " is a symbolic link: name the file itself (kd locks and replaces this file, and a second "
                         "name for it would be a second lock)"};
  if (S_ISDIR(st.st_mode)) throw IoError{"cannot use " + name + ": it is a directory, not a file"};
  if (!S_ISREG(st.st_mode)) throw IoError{"cannot use " + name + ": it is not a regular file"};
  if (st.st_nlink > 1)
    throw IoError{name + " has " + std::to_string(st.st_nlink) +
                  " hard links: kd locks and replaces this file, and a second name for it would be a second lock"};
}

FileLock::FileLock(const std::string& path, std::string_view what) {
  check_replaceable(path, what);
  std::string lock = path + ".lock";
  fd_ = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd_ < 0) {
    if (errno == ELOOP) throw IoError{"lock file " + lock + " is a symbolic link: remove it"};
    throw sys_error("cannot open lock file", lock);
  }
  struct stat st {};
  if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd_);
    throw IoError{"lock file " + lock + " is not a regular file"};
  }
  while (::flock(fd_, LOCK_EX) != 0) {
    if (errno != EINTR) {
      IoError e = sys_error("cannot lock", lock);
      ::close(fd_);
      throw e;
    }
  }
  // Another run may have replaced the file by a link while this one waited for the lock.
  try {
    check_replaceable(path, what);
  } catch (...) {
    ::close(fd_);
    throw;
  }
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace kd::files
