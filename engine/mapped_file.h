// A read-only memory map of a whole file. Model files are read through it
// without a copy; Model::load converts each tensor into memory of its own,
// releases the pages it read, and keeps no map once loaded.
//
// A file truncated while it is mapped would kill the process with SIGBUS at the
// first read past its new end. Every MappedFile registers its range with one
// process-wide SIGBUS handler that maps a page of zeros over the faulting page
// instead and marks the file; the reader then calls check_intact() (the
// loaders do, per layer and at the end), which throws a ModelError naming the
// file. A SIGBUS outside every registered map goes to the handler that was
// there before (or kills the process as it would have).
#pragma once

#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace astfill::engine {

class MappedFile {
 public:
  // Throws ModelError naming the path when it cannot be opened or mapped, or
  // is not a regular file (a FIFO or device is refused without blocking).
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::span<const uint8_t> bytes() const { return {data_, size_}; }
  const std::string& path() const { return path_; }

  // Throws ModelError naming the file if it was truncated, rewritten or
  // replaced in place since it was mapped (a read past its new end found
  // zeros instead of killing the process, or its size or modification time
  // changed): what was read from it cannot be trusted.
  void check_intact() const;

 private:
  void release() noexcept;

  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  int fd_ = -1;
  int slot_ = -1;  // in the SIGBUS registry; -1 when not registered
  struct timespec mtime_ {};
};

}  // namespace astfill::engine
