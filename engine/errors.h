// Errors from reading model files. The message always names the file and the
// key, tensor or byte offset at fault, so a user can tell a truncated download
// from a wrong architecture without a debugger.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

namespace astfill::engine {

class ModelError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The longest tensor name the GGUF and safetensors readers accept: far past any
// real file's (GGUF allows 64 bytes; Hugging Face and PEFT names stay under
// 200). Longer names are refused before any pattern reads them: std::regex
// recurses per character, and a 300 KB name overflowed the stack.
inline constexpr size_t kMaxTensorNameBytes = 1024;

}  // namespace astfill::engine
