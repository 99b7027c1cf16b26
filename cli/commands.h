// The `astfill` subcommands. Each takes its arguments (after the subcommand's
// name) and returns the process exit code.
#pragma once

#include <string>
#include <vector>

namespace astfill::cli {

int run_serve(const std::vector<std::string>& args);
int run_inspect(const std::vector<std::string>& args);
int run_quantize(const std::vector<std::string>& args);
int run_tokenize(const std::vector<std::string>& args);
int run_generate(const std::vector<std::string>& args);
int run_logits(const std::vector<std::string>& args);
int run_perplexity(const std::vector<std::string>& args);
int run_index(const std::vector<std::string>& args);
int run_query(const std::vector<std::string>& args);
int run_complete(const std::vector<std::string>& args);
int run_batch(const std::vector<std::string>& args);
int run_pull(const std::vector<std::string>& args);
int run_models(const std::vector<std::string>& args);
int run_stats(const std::vector<std::string>& args);
int run_tune(const std::vector<std::string>& args);
int run_describe_image(const std::vector<std::string>& args);

}  // namespace astfill::cli
