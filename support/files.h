// Reading a whole file into memory, the one way every module does it: with a
// size limit, without blocking on a FIFO or device swapped in for a file, and
// with errors that say why (and, for the text convenience, name the path).
#pragma once

#include <cstdint>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>

namespace astfill::support {

struct FileContent {
  std::string text;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  std::string error;  // empty on success; otherwise why ("no such file or directory"), without the path
  int error_code = 0; // errno when reading failed; EFBIG when over the limit, EINVAL when not a regular file

  bool ok() const { return error.empty(); }
};

// No limit on the size (for callers that read what they wrote themselves).
inline constexpr uint64_t kNoSizeLimit = std::numeric_limits<uint64_t>::max();
// The default limit of read_text: far above any source file or prompt.
inline constexpr uint64_t kMaxTextFileBytes = uint64_t{256} << 20;

// Reads a regular file of at most `max_bytes` (larger ones give an error).
// Opens non-blocking so that a FIFO or device cannot hang us, refuses anything
// but a regular file, and takes size and mtime from the open file, so they
// describe the bytes read.
FileContent read_file(const std::filesystem::path& path, uint64_t max_bytes);

// The text of a file for callers that only show an error: nullopt with `out`
// set on success, else "cannot read 'PATH': REASON" (and `out` untouched).
std::optional<std::string> read_text(const std::filesystem::path& path, std::string& out,
                                     uint64_t max_bytes = kMaxTextFileBytes);

}  // namespace astfill::support
