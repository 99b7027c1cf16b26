// A small command-line parser for astfill's subcommands and the bench
// programs: `--name value`, `--name=value`, boolean `--flag`, positionals, and
// generated --help text. Errors name the option and what was expected.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace astfill {

class ArgParser {
 public:
  ArgParser(std::string command, std::string summary);

  // A flag that takes a value; `meta` names the value in --help (e.g. "PORT").
  void option(std::string name, std::string meta, std::string help,
              std::function<std::optional<std::string>(const std::string&)> set);
  // A flag without a value.
  void flag(std::string name, std::string help, std::function<void()> set);

  // Arguments that are not options go to `take`, in order.
  void positional(std::string meta, std::function<void(const std::string&)> take);

  // Parses argv (without the program and subcommand names). Returns an error
  // message, or nullopt on success. `help_requested()` is true after --help.
  std::optional<std::string> parse(const std::vector<std::string>& args);
  bool help_requested() const { return help_; }
  std::string help() const;

 private:
  struct Opt {
    std::string name, meta, help;
    std::function<std::optional<std::string>(const std::string&)> set_value;
    std::function<void()> set_flag;
  };
  std::string command_, summary_;
  std::vector<Opt> opts_;
  std::string positional_meta_;
  std::function<void(const std::string&)> positional_;
  bool help_ = false;
};

// Parses a non-negative integer in [lo, hi]; the error names `what`.
std::optional<std::string> parse_uint(const std::string& text, const std::string& what,
                                      unsigned long long lo, unsigned long long hi,
                                      unsigned long long& out);

}  // namespace astfill
