// astfill: a local AI code assistant. This file only routes subcommands.
#include <cstdio>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "support/openmp_env.h"
#include "support/signals.h"

namespace {

struct Subcommand {
  const char* name;
  const char* summary;
  int (*run)(const std::vector<std::string>&);
};

const Subcommand kSubcommands[] = {
    {"serve", "run the LSP daemon (stdio, or TCP with --listen), or an HTTP completion server (--http)",
     astfill::cli::run_serve},
    {"inspect", "show a model's architecture, tokenizer and tensors", astfill::cli::run_inspect},
    {"quantize", "convert a GGUF file or a Hugging Face checkpoint to GGUF (q8_0, f16, ...)",
     astfill::cli::run_quantize},
    {"tokenize", "print the token ids a model's tokenizer gives a text", astfill::cli::run_tokenize},
    {"generate", "stream a model's continuation of a prompt", astfill::cli::run_generate},
    {"logits", "write a model's logits over a text (float32)", astfill::cli::run_logits},
    {"perplexity", "perplexity of a model on a text; KL against saved logits", astfill::cli::run_perplexity},
    {"index", "index a workspace folder, or bring its index up to date", astfill::cli::run_index},
    {"query", "ask a workspace's index: definition, members, imports, similar, prefix", astfill::cli::run_query},
    {"complete", "the completion at a position of a file (--json for how it was made)", astfill::cli::run_complete},
    {"batch", "completions for a JSON Lines file of tasks, into a JSON Lines file of results", astfill::cli::run_batch},
    {"pull", "download a GGUF model (a known name, or a URL) into the models directory", astfill::cli::run_pull},
    {"models", "list the downloaded models", astfill::cli::run_models},
    {"stats", "local statistics of suggestions: acceptance, accepted text, latency (--json, --since 7d)",
     astfill::cli::run_stats},
    {"tune", "fine-tune a LoRA adapter on a repository's code, on the CPU", astfill::cli::run_tune},
    {"describe-image", "a Qwen2-VL model describes an image (PNG or JPEG)", astfill::cli::run_describe_image},
};

void print_usage(std::FILE* out) {
  std::fprintf(out,
               "usage: astfill <command> [options]\n\n"
               "astfill %s: local code completion with project context, served over LSP.\n\n"
               "commands:\n",
               ASTFILL_VERSION);
  for (const auto& s : kSubcommands) std::fprintf(out, "  %-10s %s\n", s.name, s.summary);
  std::fprintf(out,
               "\n'astfill <command> --help' describes a command's options.\n"
               "  --version  print the version\n");
}

}  // namespace

int main(int argc, char** argv) {
  // Before any thread starts: OpenMP threads that spin while they wait make
  // decode collapse on a machine busy with other work (support/openmp_env.h).
  astfill::support::prefer_passive_openmp_wait(argv);
  // Before any thread starts: SIGINT and SIGTERM go to one thread that waits
  // for them, never to a handler on a thread inside oneDNN (support/signals.h).
  astfill::support::take_termination_signals();
  if (argc < 2) {
    print_usage(stderr);
    return 2;
  }
  std::string command = argv[1];
  if (command == "--help" || command == "-h" || command == "help") {
    print_usage(stdout);
    return 0;
  }
  if (command == "--version") {
    std::printf("astfill %s\n", ASTFILL_VERSION);
    return 0;
  }
  std::vector<std::string> args(argv + 2, argv + argc);
  for (const auto& s : kSubcommands)
    if (command == s.name) return s.run(args);
  std::fprintf(stderr, "astfill: unknown command '%s'\n\n", command.c_str());
  print_usage(stderr);
  return 2;
}
