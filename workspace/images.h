// Images in the daemon (issue 19): `astfill.image.attach` and
// `astfill.image.toCode`. An ImageHost holds the vision-language model
// (astfill.vision: a Qwen2(.5)-VL LM and its vision tower), loaded on first
// use and separately from the completion model, and the descriptions it
// wrote, cached by the image bytes' hash: attaching the same picture again
// (to any document) costs no tower run. A description enters its document's
// prompts as a context chunk named after the image (Workspace::attach_image).
//
// Thread-safe: the commands run on workers; one image is encoded at a time
// (the tower and LM use every core they are given). The LM may be the
// daemon's completion model (SharedModel), when it is the same file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "support/cancel.h"
#include "support/progress.h"
#include "vision/image.h"
#include "workspace/settings.h"

namespace astfill::engine {
class Model;
}
namespace astfill::vision {
class VisionTower;
}
namespace astfill::completion {
class CompletionService;
}

namespace astfill::workspace {

// A loaded model the vision host may use as its LM instead of loading the
// same file a second time: the daemon's completion model. At Qwen2.5-VL-3B's
// shapes the LM is about 3.3 GB, so a daemon whose completion model is the VL
// model's LM held it twice.
struct SharedModel {
  std::shared_ptr<const engine::Model> model;  // null: none loaded
  std::string path;                            // the file it was loaded from
};
using SharedModelSource = std::function<SharedModel()>;
// The service's model as it is now (its runner kept alive while a run holds it).
SharedModelSource shared_model_of(std::shared_ptr<completion::CompletionService> service);

// An image a client names: a file:// URI or a data: URI with base64 bytes.
struct ImageSource {
  std::string bytes;
  std::string name;  // what the chunk and errors call it: the file's name, or "pasted image <hash>"
};

// Reads the bytes `source` names, refusing what is over limits.max_file_bytes
// before reading; vision::ImageError naming what is wrong (a scheme other
// than file: and data:, a data URI that is not base64 or not an image type,
// a file that cannot be read). Line breaks in a data URI's base64 are skipped.
ImageSource read_image_source(const std::string& source, const vision::ImageLimits& limits = {});

// Strict base64 (RFC 4648, '=' padding optional, no other characters);
// nullopt when `text` is not base64.
std::optional<std::string> decode_base64(std::string_view text);

// A 128-bit content hash of `bytes`, as 32 hex digits.
std::string content_hash(std::string_view bytes);

// What a VL model wrote for code: the first fenced block's body when there is
// one (```lang ... ```), else the text; trailing blank lines dropped. When
// `indent` is not empty, every line after the first is prefixed with it (the
// answer goes in at a cursor on an indented line).
std::string code_from_answer(const std::string& answer, const std::string& indent);

// astfill.image.toCode's question to the VL model, and where its answer goes.
struct CodePrompt {
  std::string prompt;  // asks for `language` code for the image at <CURSOR> in `file_name`
  std::string indent;  // the cursor line's leading blanks (before the cursor): code_from_answer's `indent`
};
// The document's code around `offset` enters the prompt: up to 1500 bytes
// before it (from a line's start) and 600 after it (to a line's end), with
// the marker <CURSOR> between them. `language_id` is the LSP language id
// (named for the model: "typescriptreact" is TSX); `instruction`, when not
// empty, follows "code for this image" in parentheses. An offset past the
// end is the end.
CodePrompt code_prompt(const std::string& text, size_t offset, const std::string& language_id,
                       const std::string& file_name, const std::string& instruction);

class ImageHost {
 public:
  // `shared`: a model the host uses as the VL model's LM when it is the file
  // astfill.vision.model names, loaded as the host would load it (int8
  // weights and the KV type that goes with them), instead of loading its own
  // copy; asked again before every run, so the host follows a change of the
  // completion model (and drops its own copy once the shared one fits). The
  // LM is only read (engine::Session: any number of sessions may evaluate one
  // model at once); the VL runs use no LoRA adapters, with or without sharing.
  explicit ImageHost(SharedModelSource shared = {});
  ~ImageHost();
  ImageHost(const ImageHost&) = delete;
  ImageHost& operator=(const ImageHost&) = delete;

  struct Description {
    std::string text;
    std::string hash;
    bool cached = false;
    size_t image_tokens = 0;
  };

  // The image's description, from the cache or written by the VL model (which
  // is loaded first if `settings` names another one). Throws
  // vision::ImageError (bad image) or engine::ModelError / std::runtime_error
  // (no model set, files that do not load); returns with an empty text when
  // cancelled.
  Description describe(const ImageSource& image, const VisionSettings& settings, const CancellationToken& cancel,
                       Progress& progress);

  // The VL model's answer to `prompt` about the image (no cache).
  std::string ask(const ImageSource& image, const VisionSettings& settings, const std::string& prompt,
                  int max_tokens, const CancellationToken& cancel, Progress& progress);

  // Times the vision tower ran (cache misses and toCode runs), for status.
  size_t tower_runs() const;
  size_t cache_hits() const;
  // "none", "ready: <model>" (" (shared with completions)" when the LM is
  // the shared model) or "failed: <why>".
  std::string state() const;
  // Language models the host loaded itself (the shared one is not counted).
  size_t lm_loads() const;
  // Whether the last run's LM was the shared model.
  bool lm_shared() const;

 private:
  struct Loaded;
  // Loads what `settings` names unless it is loaded, and returns the LM to
  // run (the shared model or the host's own); run_mu_ held.
  std::shared_ptr<const engine::Model> ensure(const VisionSettings& settings, Progress& progress);
  std::shared_ptr<const engine::Model> offered(const std::string& path) const;
  std::string run(const ImageSource& image, const VisionSettings& settings, const std::string& prompt,
                  int max_tokens, const CancellationToken& cancel, Progress& progress, size_t* image_tokens);

  std::mutex run_mu_;  // one model load or image run at a time
  std::unique_ptr<Loaded> loaded_;
  mutable std::mutex mu_;
  std::map<std::string, std::string> cache_;  // by content hash + model, the description
  SharedModelSource shared_;
  size_t tower_runs_ = 0, cache_hits_ = 0, lm_loads_ = 0;
  bool lm_shared_ = false;
  std::string state_ = "none";
};

}  // namespace astfill::workspace
