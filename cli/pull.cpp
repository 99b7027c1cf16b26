// `astfill pull NAME|URL`: downloads a GGUF model into the models directory,
// resumably and checked against the server's SHA-256 (hub/download.h), with
// a progress bar on a terminal; a vision-language model's vision tower comes
// with it. `--list` shows the names it knows.
#include <cstdio>
#include <system_error>

#include "support/args.h"
#include "cli/commands.h"
#include "cli/model_name.h"
#include "cli/progress_bar.h"
#include "hub/catalog.h"
#include "hub/download.h"

namespace astfill::cli {
namespace {

namespace fs = std::filesystem;

void print_known_models() {
  std::printf("%-28s %-10s %s\n", "NAME", "SIZE", "FROM");
  for (const auto& m : hub::known_models()) {
    std::printf("%-28s %-10s huggingface.co/%s (%s", m.name, m.size, m.repo, m.file);
    if (m.mmproj) std::printf(", vision tower %s", m.mmproj);
    std::printf(")\n");
  }
}

std::string progress_message(const hub::DownloadProgress& p, const std::string& file) {
  char buf[96];
  if (p.total) std::snprintf(buf, sizeof buf, "%.1f / %.1f MB", p.bytes_done / 1e6, *p.total / 1e6);
  else std::snprintf(buf, sizeof buf, "%.1f MB", p.bytes_done / 1e6);
  return std::string(buf) + "  " + file;
}

// Downloads `url` to `destination` (or finds it there): 0, or 1 with the
// error on stderr. Prints the file's path on stdout when it is there.
int pull_file(const std::string& url, const fs::path& destination, bool force) {
  std::error_code ec;
  if (fs::exists(destination, ec) && !force) {
    std::fprintf(stderr, "astfill pull: %s is already there (--force downloads it again)\n", destination.c_str());
    std::printf("%s\n", destination.c_str());
    return 0;
  }
  if (force) fs::remove(hub::partial_path(destination), ec);

  hub::DownloadOptions options;
  options.url = url;
  options.destination = destination;
  options.user_agent = std::string("astfill/") + ASTFILL_VERSION;
  std::optional<ProgressBar> bar;
  uint64_t received = 0;
  if (stderr_is_terminal()) {
    bar.emplace(stderr, [&] { return static_cast<size_t>(received / 1000000); }, "MB");
    std::string file = destination.filename().string();
    options.progress = [&, file](const hub::DownloadProgress& progress) {
      received = progress.bytes_this_run;
      std::optional<uint32_t> percent;
      if (progress.total && *progress.total > 0)
        percent = static_cast<uint32_t>(progress.bytes_done * 100 / *progress.total);
      bar->report(percent, progress_message(progress, file));
    };
  } else {
    std::fprintf(stderr, "astfill pull: downloading %s\n", url.c_str());
  }
  hub::DownloadResult result = hub::download_file(options);
  if (bar) bar->finish();
  if (!result.error.empty()) {
    std::fprintf(stderr, "astfill pull: %s\n", result.error.c_str());
    return 1;
  }
  std::string check = result.expected_sha256.empty()
                          ? "not verified: the server published no SHA-256"
                          : "SHA-256 verified";
  std::fprintf(stderr, "astfill pull: %s: %.1f MB%s, %s (%s)\n", destination.c_str(), result.bytes / 1e6,
               result.resumed_from ? ", resumed" : "", check.c_str(), result.sha256.c_str());
  std::printf("%s\n", destination.c_str());
  return 0;
}

}  // namespace

int run_pull(const std::vector<std::string>& args) {
  std::vector<std::string> sources;
  std::string dir;
  bool force = false, list = false;
  ArgParser p("astfill pull NAME|URL",
              "Downloads a GGUF model into the models directory ($XDG_CACHE_HOME/astfill/models,\n"
              "else ~/.cache/astfill/models), where --model NAME finds it. NAME is a known model\n"
              "(--list shows them); a URL is https://… or hf://ORG/REPO/FILE.gguf. Hugging Face is\n"
              "$ASTFILL_HF_ENDPOINT (else $HF_ENDPOINT, else https://huggingface.co). An interrupted\n"
              "download resumes when run again; the file is checked against the SHA-256 Hugging\n"
              "Face publishes before it gets its name. A vision-language model (qwen2.5-vl-3b:q4_k_m)\n"
              "comes with its vision tower, NAME.mmproj.gguf beside it, where describe-image,\n"
              "generate --image and astfill.vision find it. Prints each file's path on stdout.");
  p.option("--dir", "DIR", "download into DIR instead of the models directory",
           [&](const std::string& v) -> std::optional<std::string> {
             dir = v;
             return std::nullopt;
           });
  p.flag("--force", "download again even when the file is already there", [&] { force = true; });
  p.flag("--list", "list the known model names and where they come from", [&] { list = true; });
  p.positional("NAME|URL", [&](const std::string& v) { sources.push_back(v); });
  auto usage_error = [](const std::string& message) {
    std::fprintf(stderr, "astfill pull: %s\n", message.c_str());
    return 2;
  };
  if (auto err = p.parse(args)) return usage_error(*err);
  if (p.help_requested()) {
    std::fputs(p.help().c_str(), stdout);
    return 0;
  }
  if (list) {
    print_known_models();
    return 0;
  }
  if (sources.size() != 1) return usage_error("expected one NAME or URL (see --help; --list shows the names)");

  std::string error;
  auto source = hub::parse_pull_source(sources[0], hub::hub_endpoint(), error);
  if (!source) return usage_error(error + " (--list shows the known names)");
  fs::path target_dir = dir.empty() ? default_models_dir() : fs::path(dir);
  std::error_code ec;
  fs::create_directories(target_dir, ec);
  if (ec) {
    std::fprintf(stderr, "astfill pull: cannot create '%s': %s\n", target_dir.c_str(), ec.message().c_str());
    return 1;
  }
  // The model, then its vision tower when it has one: each resumable and
  // verified on its own; stdout gets each file's path, the model's first.
  int status = pull_file(source->url, target_dir / source->file_name, force);
  if (status == 0 && !source->mmproj_url.empty())
    status = pull_file(source->mmproj_url, target_dir / source->mmproj_file_name, force);
  return status;
}

}  // namespace astfill::cli
