#include "support/args.h"

#include <charconv>
#include <sstream>

namespace astfill {

ArgParser::ArgParser(std::string command, std::string summary)
    : command_(std::move(command)), summary_(std::move(summary)) {}

void ArgParser::option(std::string name, std::string meta, std::string help,
                       std::function<std::optional<std::string>(const std::string&)> set) {
  opts_.push_back(Opt{std::move(name), std::move(meta), std::move(help), std::move(set), nullptr});
}

void ArgParser::flag(std::string name, std::string help, std::function<void()> set) {
  opts_.push_back(Opt{std::move(name), "", std::move(help), nullptr, std::move(set)});
}

void ArgParser::positional(std::string meta, std::function<void(const std::string&)> take) {
  positional_meta_ = std::move(meta);
  positional_ = std::move(take);
}

std::optional<std::string> ArgParser::parse(const std::vector<std::string>& args) {
  bool only_positionals = false;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i];
    if (!only_positionals && (arg == "--help" || arg == "-h")) {
      help_ = true;
      return std::nullopt;
    }
    if (!only_positionals && arg == "--") {
      only_positionals = true;
      continue;
    }
    if (only_positionals || arg.empty() || arg[0] != '-' || arg == "-") {
      if (!positional_) return "unexpected argument '" + arg + "' (see '" + command_ + " --help')";
      positional_(arg);
      continue;
    }
    std::optional<std::string> inline_value;
    if (auto eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      inline_value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    }
    const Opt* match = nullptr;
    for (auto& o : opts_)
      if (o.name == arg) match = &o;
    if (!match) return "unknown option '" + arg + "' (see '" + command_ + " --help')";
    if (match->set_flag) {
      if (inline_value) return "option " + arg + " takes no value";
      match->set_flag();
      continue;
    }
    std::string value;
    if (inline_value) {
      value = *inline_value;
    } else {
      if (i + 1 >= args.size()) return "option " + arg + " needs a value (" + match->meta + ")";
      value = args[++i];
    }
    if (auto err = match->set_value(value)) return "option " + arg + ": " + *err;
  }
  return std::nullopt;
}

std::string ArgParser::help() const {
  std::ostringstream os;
  os << "usage: " << command_ << " [options]\n\n" << summary_ << "\n\noptions:\n";
  size_t width = 0;
  for (auto& o : opts_) width = std::max(width, o.name.size() + (o.meta.empty() ? 0 : o.meta.size() + 1));
  width = std::max<size_t>(width, 10);
  for (auto& o : opts_) {
    std::string left = o.name + (o.meta.empty() ? "" : " " + o.meta);
    os << "  " << left << std::string(width - left.size() + 2, ' ');
    // Indent continuation lines of the help text under its first line.
    std::string indent(width + 4, ' ');
    for (char c : o.help) {
      os << c;
      if (c == '\n') os << indent;
    }
    os << "\n";
  }
  os << "  --help" << std::string(width - 6 + 2, ' ') << "show this help\n";
  return os.str();
}

std::optional<std::string> parse_uint(const std::string& text, const std::string& what,
                                      unsigned long long lo, unsigned long long hi,
                                      unsigned long long& out) {
  unsigned long long v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || text.empty())
    return "'" + text + "' is not a " + what;
  if (v < lo || v > hi)
    return what + " " + text + " is outside " + std::to_string(lo) + ".." + std::to_string(hi);
  out = v;
  return std::nullopt;
}

}  // namespace astfill
