// Writes GGUF v3 files: for `astfill quantize`, and for the tests and
// benchmarks that need model files of their own (random-weight models).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/gguf.h"

namespace astfill::engine {

class GgufWriter {
 public:
  explicit GgufWriter(size_t alignment = 32) : alignment_(alignment) {}

  // Metadata, written in the order added. Replaces an existing key.
  void set(const std::string& key, GgufValue value);
  void set_string(const std::string& key, std::string v);
  void set_u32(const std::string& key, uint32_t v);
  void set_i32(const std::string& key, int32_t v);
  void set_f32(const std::string& key, float v);
  void set_bool(const std::string& key, bool v);
  void set_strings(const std::string& key, std::vector<std::string> v);
  void set_i32s(const std::string& key, std::vector<int32_t> v);

  // A tensor whose data is already in `type`'s layout (bytes must match the
  // shape). ne[0] is the contiguous dimension.
  void add_tensor(const std::string& name, GgmlType type, std::vector<int64_t> ne,
                  std::vector<uint8_t> data);
  // A tensor from f32 values, quantised to `type`.
  void add_tensor_f32(const std::string& name, GgmlType type, std::vector<int64_t> ne,
                      const std::vector<float>& values);

  // A tensor whose bytes are produced while the file is written, so a large
  // model is converted one tensor at a time. `produce` must fill exactly the
  // tensor's byte size.
  void add_tensor_lazy(const std::string& name, GgmlType type, std::vector<int64_t> ne,
                       std::function<void(std::vector<uint8_t>& out)> produce);

  // Throws ModelError when the file cannot be written.
  void write(const std::string& path) const;

 private:
  void write_to(const std::string& path, const std::string& head) const;

  struct Tensor {
    std::string name;
    GgmlType type;
    std::vector<int64_t> ne;
    size_t bytes = 0;
    std::vector<uint8_t> data;                               // when known up front
    std::function<void(std::vector<uint8_t>&)> produce;      // or produced at write time
  };
  size_t alignment_;
  std::vector<std::pair<std::string, GgufValue>> kv_;
  std::vector<Tensor> tensors_;
};

}  // namespace astfill::engine
