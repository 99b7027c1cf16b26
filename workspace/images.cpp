// See images.h.
#include "workspace/images.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "completion/model_runner.h"
#include "completion/service.h"
#include "engine/errors.h"
#include "engine/model.h"
#include "engine/tokenizer.h"
#include "vision/describe.h"
#include "vision/tower.h"
#include "workspace/uri.h"

namespace astfill::workspace {

std::optional<std::string> decode_base64(std::string_view text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  size_t end = text.size();
  size_t pads = 0;
  while (end > 0 && text[end - 1] == '=' && pads < 2) --end, ++pads;
  if (pads > 0 && text.size() % 4 != 0) return std::nullopt;
  if (end % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(end / 4 * 3 + 2);
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < end; ++i) {
    int v = value(text[i]);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  // Leftover bits must be zero (canonical encoding).
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

std::string content_hash(std::string_view bytes) {
  // Two independent 64-bit FNV-1a streams (different offsets, one over the
  // bytes reversed in pairs' order of mixing), finished with splitmix64.
  uint64_t a = 0xcbf29ce484222325ull, b = 0x84222325cbf29ce4ull ^ bytes.size();
  for (unsigned char c : bytes) {
    a = (a ^ c) * 0x100000001b3ull;
    b = (b ^ (c + 0x9eu)) * 0x100000001b3ull;
    b ^= b >> 29;
  }
  auto mix = [](uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
  };
  char hex[33];
  std::snprintf(hex, sizeof hex, "%016llx%016llx", static_cast<unsigned long long>(mix(a ^ bytes.size())),
                static_cast<unsigned long long>(mix(b)));
  return hex;
}

ImageSource read_image_source(const std::string& source, const vision::ImageLimits& limits) {
  if (source.rfind("data:", 0) == 0) {
    // data:[<mediatype>][;base64],<data>
    size_t comma = source.find(',');
    if (comma == std::string::npos)
      throw vision::ImageError("data URI: no ',' before the data (expected data:image/png;base64,...)");
    std::string meta = source.substr(5, comma - 5);
    bool base64 = meta.size() >= 7 && meta.compare(meta.size() - 7, 7, ";base64") == 0;
    std::string type = base64 ? meta.substr(0, meta.size() - 7) : meta;
    if (auto semi = type.find(';'); semi != std::string::npos) type.resize(semi);
    if (!type.empty() && type != "image/png" && type != "image/jpeg" && type != "image/jpg")
      throw vision::ImageError("data URI: media type '" + type + "' is not image/png or image/jpeg");
    if (!base64) throw vision::ImageError("data URI: the data is not marked ;base64 (expected data:image/png;base64,...)");
    std::string_view payload(source);
    payload.remove_prefix(comma + 1);
    if (payload.size() / 4 * 3 > limits.max_file_bytes)
      throw vision::ImageError("data URI: " + std::to_string(payload.size() / 4 * 3) + " bytes is over the limit of " +
                               std::to_string(limits.max_file_bytes));
    // Base64 wrapped in lines (MIME's 76 columns) is taken too.
    std::string compact;
    compact.reserve(payload.size());
    for (char c : payload)
      if (c != '\n' && c != '\r' && c != ' ' && c != '\t') compact.push_back(c);
    auto bytes = decode_base64(compact);
    if (!bytes) throw vision::ImageError("data URI: the data is not valid base64");
    if (bytes->empty()) throw vision::ImageError("data URI: no image data");
    std::string name = "pasted image " + content_hash(*bytes).substr(0, 8);
    return {std::move(*bytes), std::move(name)};
  }
  if (source.rfind("file:", 0) != 0)
    throw vision::ImageError("image source '" + source.substr(0, 64) +
                             "': expected a file:// URI or a data:image/...;base64, URI");
  auto path = file_uri_to_path(source);
  if (!path) throw vision::ImageError("image source '" + source + "': not a local file URI");
  struct stat st {};
  if (::stat(path->c_str(), &st) != 0 || !S_ISREG(st.st_mode))
    throw vision::ImageError(*path + ": no such file");
  if (static_cast<uint64_t>(st.st_size) > limits.max_file_bytes)
    throw vision::ImageError(*path + ": " + std::to_string(st.st_size) + " bytes is over the limit of " +
                             std::to_string(limits.max_file_bytes));
  std::ifstream in(*path, std::ios::binary);
  std::ostringstream buf;
  buf << in.rdbuf();
  if (!in && !in.eof()) throw vision::ImageError(*path + ": cannot be read");
  std::string name = *path;
  if (auto slash = name.find_last_of('/'); slash != std::string::npos) name = name.substr(slash + 1);
  return {buf.str(), name};
}

std::string code_from_answer(const std::string& answer, const std::string& indent) {
  std::string code = answer;
  if (size_t open = answer.find("```"); open != std::string::npos) {
    size_t body = answer.find('\n', open);
    if (body != std::string::npos) {
      ++body;
      size_t close = answer.find("```", body);
      code = answer.substr(body, close == std::string::npos ? std::string::npos : close - body);
    }
  }
  // Leading blank lines and trailing whitespace go; the code ends with one newline.
  size_t first = 0;
  while (first < code.size()) {
    size_t nl = code.find('\n', first);
    if (nl == std::string::npos || code.find_first_not_of(" \t\r", first) < nl) break;
    first = nl + 1;
  }
  code.erase(0, first);
  while (!code.empty() && (code.back() == '\n' || code.back() == ' ' || code.back() == '\t' || code.back() == '\r'))
    code.pop_back();
  if (code.empty()) return code;
  if (!indent.empty()) {
    std::string out;
    for (size_t i = 0; i < code.size(); ++i) {
      out.push_back(code[i]);
      if (code[i] == '\n' && i + 1 < code.size() && code[i + 1] != '\n') out += indent;
    }
    code = std::move(out);
  }
  return code + "\n";
}

namespace {

// The lines around `offset`: up to `before` bytes before it (from a line's
// start) and `after` bytes after it (to a line's end).
std::pair<std::string, std::string> around(const std::string& text, size_t offset, size_t before, size_t after) {
  size_t from = offset > before ? offset - before : 0;
  if (from > 0) {
    size_t nl = text.find('\n', from);
    if (nl != std::string::npos && nl < offset) from = nl + 1;
  }
  size_t to = std::min(text.size(), offset + after);
  if (to < text.size()) {
    size_t nl = text.rfind('\n', to);
    if (nl != std::string::npos && nl >= offset) to = nl;
  }
  return {text.substr(from, offset - from), text.substr(offset, to - offset)};
}

std::string language_name(const std::string& id) {
  static const std::pair<const char*, const char*> names[] = {
      {"python", "Python"},         {"javascript", "JavaScript"}, {"typescript", "TypeScript"},
      {"typescriptreact", "TSX"},   {"javascriptreact", "JSX"},   {"go", "Go"},
      {"cpp", "C++"},               {"c", "C"},                   {"java", "Java"},
      {"rust", "Rust"},             {"html", "HTML"},             {"css", "CSS"},
      {"csharp", "C#"},             {"kotlin", "Kotlin"},         {"swift", "Swift"},
      {"ruby", "Ruby"},             {"php", "PHP"},               {"vue", "Vue"},
      {"dart", "Dart"},             {"scala", "Scala"},           {"sql", "SQL"},
      {"shellscript", "shell"},
  };
  for (auto& [k, v] : names)
    if (id == k) return v;
  return id.empty() ? "the file's language" : id;
}

}  // namespace

CodePrompt code_prompt(const std::string& text, size_t offset, const std::string& language_id,
                       const std::string& file_name, const std::string& instruction) {
  offset = std::min(offset, text.size());
  auto [before, after] = around(text, offset, 1500, 600);
  CodePrompt out;
  // The cursor line's indentation continues into the inserted lines.
  size_t line_start = offset == 0 ? std::string::npos : text.rfind('\n', offset - 1);
  line_start = line_start == std::string::npos ? 0 : line_start + 1;
  for (size_t i = line_start; i < offset && (text[i] == ' ' || text[i] == '\t'); ++i) out.indent.push_back(text[i]);
  const std::string language = language_name(language_id);
  out.prompt = "Write " + language + " code for this image" + (instruction.empty() ? "" : " (" + instruction + ")") +
               ". It goes where <CURSOR> is in " + file_name + ":\n```\n" + before + "<CURSOR>" + after +
               "\n```\nAnswer with the " + language +
               " code to insert only, in one fenced block, without repeating the code around it.";
  return out;
}

SharedModelSource shared_model_of(std::shared_ptr<completion::CompletionService> service) {
  return [service = std::move(service)]() -> SharedModel {
    auto runner = service->runner();
    if (!runner) return {};
    // Aliasing: the model lives as long as its runner, which the pointer holds.
    return {std::shared_ptr<const engine::Model>(runner, &runner->model()), runner->options().model_path};
  };
}

struct ImageHost::Loaded {
  VisionSettings settings;
  vision::VisionTower tower;
  std::shared_ptr<const engine::Model> own;  // the LM the host loaded; null while it uses the shared one
};

namespace {

// How the host loads a VL model's LM itself.
engine::LoadOptions own_load_options() { return engine::LoadOptions{}; }

bool same_file(const std::string& a, const std::string& b) {
  if (a == b) return true;
  std::error_code ec;
  return std::filesystem::equivalent(a, b, ec) && !ec;
}

}  // namespace

ImageHost::ImageHost(SharedModelSource shared) : shared_(std::move(shared)) {}
ImageHost::~ImageHost() = default;

std::shared_ptr<const engine::Model> ImageHost::offered(const std::string& path) const {
  if (!shared_) return nullptr;
  SharedModel m = shared_();
  if (!m.model || !same_file(m.path, path)) return nullptr;
  // Loaded as the host would load it, so its answers are the ones of a
  // separate load: the same weights and the KV cache type they imply.
  const engine::LoadOptions own = own_load_options();
  const engine::KvType own_kv = own.kv != engine::KvType::Auto ? own.kv
                                : own.weights == engine::WeightMode::F32 ? engine::KvType::F32
                                                                          : engine::KvType::Bf16;
  if (m.model->weight_mode() != own.weights || m.model->kv_type() != own_kv) return nullptr;
  return m.model;
}

std::shared_ptr<const engine::Model> ImageHost::ensure(const VisionSettings& settings, Progress& progress) {
  if (settings.model.empty()) {
    // A session without the setting: another session's model (the host may
    // be the daemon's) stays loaded.
    throw std::runtime_error(
        "no vision model: set astfill.vision.model (a Qwen2-VL / Qwen2.5-VL model, e.g. qwen2.5-vl-3b:q4_k_m "
        "after 'astfill pull qwen2.5-vl-3b:q4_k_m') and astfill.vision.mmproj (its vision tower, unless pulled "
        "with it)");
  }
  const bool same = loaded_ && loaded_->settings.model == settings.model && loaded_->settings.mmproj == settings.mmproj;
  std::shared_ptr<const engine::Model> lm = offered(settings.model);
  const bool shared = lm != nullptr;
  if (same && !shared && loaded_->own) return loaded_->own;
  try {
    if (!same) {
      loaded_.reset();
      progress.report(std::nullopt, "loading the vision model");
      auto next = std::make_unique<Loaded>();
      next->settings = settings;
      next->tower = vision::VisionTower::load(settings.mmproj.empty() ? settings.model : settings.mmproj);
      loaded_ = std::move(next);
    }
    if (shared) {
      loaded_->own.reset();  // the completion model serves: one copy of the weights
    } else {
      progress.report(std::nullopt, "loading the vision model's language model");
      lm = engine::Model::open(settings.model, own_load_options());
      loaded_->own = lm;
      std::lock_guard lock(mu_);
      ++lm_loads_;
    }
    vision::check_pair(*lm, settings.model, loaded_->tower);
  } catch (const std::exception& e) {
    loaded_.reset();
    std::lock_guard lock(mu_);
    state_ = std::string("failed: ") + e.what();
    throw;
  }
  std::lock_guard lock(mu_);
  lm_shared_ = shared;
  state_ = "ready: " + settings.model + (shared ? " (shared with completions)" : "");
  return lm;
}

std::string ImageHost::run(const ImageSource& image, const VisionSettings& settings, const std::string& prompt,
                           int max_tokens, const CancellationToken& cancel, Progress& progress,
                           size_t* image_tokens) {
  // The image first: a bad one fails before seconds of model loading.
  const vision::Image pixels = vision::decode_image(image.bytes, image.name);
  std::lock_guard run_lock(run_mu_);
  const std::shared_ptr<const engine::Model> lm = ensure(settings, progress);
  const vision::VisionTower& tower = loaded_->tower;
  if (cancel.cancelled()) return {};
  vision::DescribeOptions o;
  o.prompt = prompt;
  o.max_tokens = max_tokens;
  o.max_image_tokens = settings.max_image_tokens;
  progress.report(std::nullopt, "reading " + image.name);
  {
    std::lock_guard lock(mu_);
    ++tower_runs_;
  }
  engine::StreamDecoder out(lm->tokenizer());
  std::string text;
  size_t tokens = 0;
  const auto stats = vision::describe_image(*lm, tower, pixels, o, [&](int32_t t) {
    text += out.push(t);
    if (++tokens % 8 == 0)
      progress.report(static_cast<uint32_t>(std::min<size_t>(99, tokens * 100 / static_cast<size_t>(max_tokens))),
                      std::to_string(tokens) + " tokens");
    return !cancel.cancelled();
  }, cancel);
  text += out.flush();
  if (image_tokens) *image_tokens = stats.image_tokens;
  if (stats.cancelled || cancel.cancelled()) return {};
  // describe_image stops at special tokens; the model may still spell one.
  return vision::cut_at_control_text(std::move(text), lm->tokenizer());
}

ImageHost::Description ImageHost::describe(const ImageSource& image, const VisionSettings& settings,
                                           const CancellationToken& cancel, Progress& progress) {
  Description d;
  d.hash = content_hash(image.bytes);
  const std::string key = d.hash + "\n" + settings.model + "\n" + settings.mmproj + "\n" +
                          std::to_string(settings.max_image_tokens);
  {
    std::lock_guard lock(mu_);
    if (auto it = cache_.find(key); it != cache_.end()) {
      ++cache_hits_;
      d.text = it->second;
      d.cached = true;
      return d;
    }
  }
  d.text = run(image, settings,
               "Describe this image for a programmer who is writing code from it: its layout, the text it shows, "
               "and the structure (components, fields, classes, arrows).",
               256, cancel, progress, &d.image_tokens);
  if (cancel.cancelled()) return d;
  std::lock_guard lock(mu_);
  // Descriptions are small (a few hundred tokens); the oldest-keyed go past a
  // few thousand images.
  if (cache_.size() >= 4096) cache_.erase(cache_.begin());
  cache_[key] = d.text;
  return d;
}

std::string ImageHost::ask(const ImageSource& image, const VisionSettings& settings, const std::string& prompt,
                           int max_tokens, const CancellationToken& cancel, Progress& progress) {
  return run(image, settings, prompt, max_tokens, cancel, progress, nullptr);
}

size_t ImageHost::tower_runs() const {
  std::lock_guard lock(mu_);
  return tower_runs_;
}
size_t ImageHost::cache_hits() const {
  std::lock_guard lock(mu_);
  return cache_hits_;
}
size_t ImageHost::lm_loads() const {
  std::lock_guard lock(mu_);
  return lm_loads_;
}
bool ImageHost::lm_shared() const {
  std::lock_guard lock(mu_);
  return lm_shared_;
}
std::string ImageHost::state() const {
  std::lock_guard lock(mu_);
  return state_;
}

}  // namespace astfill::workspace
