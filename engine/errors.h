// Errors from reading model files. The message always names the file and the
// key, tensor or byte offset at fault, so a user can tell a truncated download
// from a wrong architecture without a debugger.
#pragma once

#include <stdexcept>
#include <string>

namespace astfill::engine {

class ModelError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace astfill::engine
