// safetensors files: u64 header length, a JSON header {name: {dtype, shape,
// data_offsets}}, then the data. Tensors are used in place from the map.
// Sharded checkpoints list their files in model.safetensors.index.json.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/mapped_file.h"

namespace astfill::engine {

struct SafeTensor {
  std::string name;
  std::string dtype;           // "F32", "F16", "BF16", "I64", ...
  std::vector<int64_t> shape;  // row-major, PyTorch order ([out, in] for a linear weight)
  const uint8_t* data = nullptr;
  size_t bytes = 0;
};

class SafetensorsFile {
 public:
  // Maps and validates the file. Throws ModelError naming the file and tensor.
  static SafetensorsFile open(const std::string& path);

  const std::string& path() const { return file_->path(); }
  // Throws ModelError if the file was truncated or changed since it was
  // mapped (MappedFile::check_intact).
  void check_intact() const { file_->check_intact(); }
  const std::vector<SafeTensor>& tensors() const { return tensors_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

 private:
  std::shared_ptr<MappedFile> file_;
  std::vector<SafeTensor> tensors_;
  std::map<std::string, std::string> metadata_;
};

// The shard files of a checkpoint directory: model.safetensors.index.json's
// weight_map if present, else every *.safetensors file. Throws ModelError.
std::vector<std::string> safetensors_shards(const std::string& dir);

// Bytes per element of a safetensors dtype, or 0 if unknown.
size_t safetensors_dtype_size(const std::string& dtype);

}  // namespace astfill::engine
