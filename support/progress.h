// A sink for progress of long work (indexing, prefill, a fill). The LSP layer
// turns it into $/progress; the CLI into a progress bar; tests count calls.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace astfill {

class Progress {
 public:
  virtual ~Progress() = default;
  // percentage in [0, 100] when known.
  virtual void report(std::optional<uint32_t> percentage, const std::string& message) = 0;
};

class NoProgress final : public Progress {
 public:
  void report(std::optional<uint32_t>, const std::string&) override {}
};

}  // namespace astfill
