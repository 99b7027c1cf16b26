// A read-only memory map of a whole file. Model files are read through it
// without a copy; Model::load converts each tensor into memory of its own,
// releases the pages it read, and keeps no map once loaded.
#pragma once

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

 private:
  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace astfill::engine
