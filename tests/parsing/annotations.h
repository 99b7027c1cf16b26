// clangd-style annotated sources for tests: `$name^` marks a named point and
// is removed from the text, so a test can say "the scope at $body" without
// counting bytes.
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>

namespace astfill::parsing::testing {

class Annotated {
 public:
  explicit Annotated(std::string_view annotated) {
    for (size_t i = 0; i < annotated.size(); ++i) {
      if (annotated[i] == '$') {
        size_t caret = annotated.find('^', i);
        if (caret == std::string_view::npos) throw std::invalid_argument("annotation without ^");
        points_[std::string(annotated.substr(i + 1, caret - i - 1))] = static_cast<uint32_t>(text_.size());
        i = caret;
        continue;
      }
      text_ += annotated[i];
    }
  }
  const std::string& text() const { return text_; }
  uint32_t point(const std::string& name) const {
    auto it = points_.find(name);
    if (it == points_.end()) throw std::invalid_argument("no point $" + name);
    return it->second;
  }

 private:
  std::string text_;
  std::map<std::string, uint32_t> points_;
};

}  // namespace astfill::parsing::testing
