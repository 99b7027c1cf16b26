// GGUF v2/v3 files: metadata and tensor directory, read from a memory map.
//
// Everything read from the file is checked against the file before it is
// trusted: counts against the bytes that remain (so a hostile count cannot
// cause a huge allocation), the memory the metadata and tensor directory take
// against a budget (min(256 MiB, 8 MiB + 4 x the file size), charged before
// anything is allocated), tensor shapes against their type's block size,
// offsets and sizes against the data section, tensors against each other
// (no overlaps, no duplicate names), and each tensor's size against its data
// region (back to back up to alignment padding, so a relabelled type shows).
// Errors name the file and the key or tensor. Tensor data is not copied:
// TensorInfo::data points into the map.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/mapped_file.h"
#include "engine/tensor_types.h"

namespace astfill::engine {

enum class GgufType : uint32_t {
  U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, Bool = 7,
  String = 8, Array = 9, U64 = 10, I64 = 11, F64 = 12,
};
const char* gguf_type_name(GgufType t);

// One metadata value. Scalars use the field that fits their type; arrays
// keep their element type and fill exactly one of the vectors.
struct GgufValue {
  GgufType type = GgufType::U8;
  GgufType elem_type = GgufType::U8;  // arrays only
  uint64_t u = 0;                     // unsigned integers
  int64_t i = 0;                      // signed integers
  double f = 0;                       // F32, F64
  bool b = false;
  std::string s;
  std::vector<int64_t> ints;          // arrays of integers or bools (U64 above 2^63 wrap)
  std::vector<double> floats;         // arrays of F32/F64
  std::vector<std::string> strings;   // arrays of strings
  std::vector<GgufValue> arrays;      // arrays of arrays

  bool is_integer() const;
  // The value as an integer, whatever its integer width; nullopt otherwise.
  std::optional<int64_t> as_int() const;
  // The value as a float (integers convert); nullopt for non-numbers.
  std::optional<double> as_float() const;
  size_t array_size() const;
  std::string summary() const;  // for `astfill inspect`
};

struct GgufTensor {
  std::string name;
  GgmlType type;
  std::vector<int64_t> ne;  // ne[0] is the contiguous (row) dimension
  uint64_t offset = 0;      // from the start of the data section
  size_t bytes = 0;
  const uint8_t* data = nullptr;

  int64_t elements() const;
  int64_t rows() const { return ne.empty() ? 0 : elements() / ne[0]; }
};

class GgufFile {
 public:
  // Maps and validates the file. Throws ModelError.
  static GgufFile open(const std::string& path);

  const std::string& path() const { return file_->path(); }
  uint32_t version() const { return version_; }
  size_t alignment() const { return alignment_; }
  // Where the tensor data section starts, in bytes from the file's start.
  size_t data_offset() const { return data_offset_; }
  const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return kv_; }
  const GgufValue* find(const std::string& key) const;
  const std::vector<GgufTensor>& tensors() const { return tensors_; }
  const GgufTensor* tensor(const std::string& name) const;
  uint64_t file_bytes() const { return file_->bytes().size(); }
  // Throws ModelError if the file was truncated or changed since it was
  // mapped (MappedFile::check_intact).
  void check_intact() const { file_->check_intact(); }

  // Typed lookups that throw ModelError naming the key when it is missing or
  // has the wrong type.
  std::string get_string(const std::string& key) const;
  int64_t get_int(const std::string& key) const;
  double get_float(const std::string& key) const;
  std::optional<int64_t> get_int_opt(const std::string& key) const;
  std::optional<double> get_float_opt(const std::string& key) const;

 private:
  std::shared_ptr<MappedFile> file_;
  uint32_t version_ = 0;
  size_t alignment_ = 32;
  size_t data_offset_ = 0;
  std::vector<std::pair<std::string, GgufValue>> kv_;
  std::map<std::string, size_t> kv_index_;
  std::vector<GgufTensor> tensors_;
  std::map<std::string, size_t> tensor_index_;
};

}  // namespace astfill::engine
