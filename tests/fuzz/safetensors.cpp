// The safetensors reader: header length, JSON header, data offsets. A hostile
// file must end in a ModelError naming the tensor, and every tensor it
// accepts must lie inside the file.
#include <cstdint>

#include "engine/errors.h"
#include "engine/safetensors.h"
#include "tests/fuzz/fuzz_support.h"

using namespace astfill::engine;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static astfill::fuzz::InputFile file;
  const std::string& path = file.write(data, size);
  try {
    SafetensorsFile f = SafetensorsFile::open(path);
    for (const auto& t : f.tensors()) {
      if (t.bytes == 0) continue;
      auto* begin = reinterpret_cast<const uint8_t*>(t.data);
      // The data lies in the map; reading its first and last byte under ASan
      // shows a tensor that points outside it.
      volatile uint8_t first = begin[0], last = begin[t.bytes - 1];
      (void)first;
      (void)last;
      size_t elem = safetensors_dtype_size(t.dtype);
      if (elem == 0) continue;
      uint64_t n = 1;
      for (int64_t d : t.shape) n *= static_cast<uint64_t>(d);
      astfill::fuzz::check(n * elem == t.bytes, "tensor size disagrees with its shape");
    }
  } catch (const ModelError&) {
  }
  return 0;
}
