// The tools' file plumbing is lib/files (files/files.hpp), which the services in lib/net share;
// its names stay reachable as cli's, as the tools have always called them.
#pragma once

#include "core/run_error.hpp"
#include "files/files.hpp"

namespace kd::cli {

using files::check_readable;
using files::check_replaceable;
using files::FileLock;
using files::open_replace;
using files::read_file;
using files::readable_by_others;
using files::warn_if_readable;
using files::write_file_atomic;
using kd::IoError;

}  // namespace kd::cli
