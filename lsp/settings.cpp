#include "lsp/settings.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include "completion/remote_backend.h"
#include "engine/lora.h"
#include "support/log.h"
#include "workspace/uri.h"

namespace astfill::lsp {
namespace json = boost::json;
namespace {

using Warnings = std::vector<std::string>;

void read_bool(const json::value& v, const std::string& key, bool& out, Warnings& w) {
  if (v.is_bool()) out = v.get_bool();
  else w.push_back("setting astfill." + key + ": expected true or false; ignored");
}

void read_count(const json::value& v, const std::string& key, unsigned& out, unsigned lo,
                unsigned hi, Warnings& w) {
  int64_t n = 0;
  if (v.is_int64()) n = v.get_int64();
  else if (v.is_uint64()) n = static_cast<int64_t>(std::min<uint64_t>(v.get_uint64(), hi + 1ull));
  else if (v.is_double() && std::isfinite(v.get_double()) && v.get_double() == std::trunc(v.get_double()))
    // Clamped before the conversion: a double beyond int64_t's range (3e78)
    // does not convert (undefined behaviour); it is outside lo..hi anyway.
    n = static_cast<int64_t>(std::clamp(v.get_double(), -1e18, 1e18));
  else {
    w.push_back("setting astfill." + key + ": expected an integer; ignored");
    return;
  }
  if (n < lo || n > hi) {
    w.push_back("setting astfill." + key + ": " + std::to_string(n) + " is outside " +
                std::to_string(lo) + ".." + std::to_string(hi) + "; ignored");
    return;
  }
  out = static_cast<unsigned>(n);
}

void read_string(const json::value& v, const std::string& key, std::string& out, Warnings& w) {
  if (v.is_string()) out = std::string(v.get_string());
  else w.push_back("setting astfill." + key + ": expected a string; ignored");
}

// astfill.backend: "local", or {url, model, api: "openai"|"llamacpp",
// token_env, token_file, allow_insecure}. The token itself never comes from
// settings (they may sit in a repository): only where to read it.
void read_backend(const json::value& v, completion::RemoteBackend& out, Warnings& w) {
  if (v.is_string() && v.get_string() == "local") {
    out = {};
    return;
  }
  auto* o = v.if_object();
  if (!o) {
    w.push_back("setting astfill.backend: expected \"local\" or {url, model, api, token_env}; ignored");
    return;
  }
  completion::RemoteBackend b;
  for (auto& [bk, bv] : *o) {
    std::string sub(bk);
    std::string full = "backend." + sub;
    bool is_string = bv.is_string();
    if (sub == "url" && is_string) b.url = std::string(bv.get_string());
    else if (sub == "model" && is_string) b.model = std::string(bv.get_string());
    else if (sub == "token_env" && is_string) b.token_env = std::string(bv.get_string());
    else if (sub == "token_file" && is_string) b.token_file = std::string(bv.get_string());
    else if (sub == "api" && is_string && (bv.get_string() == "openai" || bv.get_string() == "llamacpp"))
      b.api = bv.get_string() == "openai" ? completion::RemoteBackend::Api::OpenAI : completion::RemoteBackend::Api::LlamaCpp;
    else if (sub == "allow_insecure" && bv.is_bool()) b.allow_insecure = bv.get_bool();
    else if (sub == "token") {
      w.push_back("setting astfill.backend.token: a token is never read from settings; name an environment "
                  "variable (token_env) or a file (token_file); backend ignored");
      return;
    } else if (sub == "url" || sub == "model" || sub == "api" || sub == "token_env" || sub == "token_file" ||
               sub == "allow_insecure") {
      w.push_back("setting astfill." + full + ": " +
                  (sub == "api" ? "expected \"openai\" or \"llamacpp\"" : sub == "allow_insecure" ? "expected true or false" : "expected a string") +
                  "; backend ignored");
      return;
    } else {
      w.push_back("setting astfill." + full + " is unknown; ignored");
    }
  }
  if (b.url.empty()) {
    w.push_back("setting astfill.backend.url: required (or \"local\"); backend ignored");
    return;
  }
  if (std::string problem = completion::check_backend(b); !problem.empty()) {
    w.push_back("setting astfill." + problem + "; backend ignored");
    return;
  }
  out = std::move(b);
}

// "PATH[:SCALE]" with a relative PATH taken against `base` (none: as written).
std::string resolve_adapter(const std::string& spec, const std::string& base) {
  return base.empty() ? spec : engine::resolve_adapter_spec(spec, base);
}

}  // namespace

std::string settings_base_dir(const std::vector<workspace::Folder>& folders) {
  if (folders.empty()) return "";
  return workspace::file_uri_to_path(folders.front().uri).value_or("");
}

std::vector<std::string> apply_settings(const json::value& section, Settings& s, const std::string& base_dir) {
  Warnings w;
  if (section.is_null()) return w;
  auto* o = section.if_object();
  if (!o) {
    w.push_back("setting astfill: expected an object of settings; ignored");
    return w;
  }
  auto& c = s.completion;
  for (auto& [k, v] : *o) {
    std::string key(k);
    if (key == "enable") read_bool(v, key, c.enable, w);
    else if (key == "maxTokens") read_count(v, key, c.max_tokens, 1, 4096, w);
    else if (key == "timeoutMs") read_count(v, key, c.timeout_ms, 1, 600000, w);
    else if (key == "model") read_string(v, key, c.model, w);
    else if (key == "constraints") read_bool(v, key, c.constrain, w);
    else if (key == "speculate") read_bool(v, key, c.speculate, w);
    else if (key == "tokenHealing") read_bool(v, key, c.heal, w);
    else if (key == "kvPersist") read_bool(v, key, c.kv_persist, w);
    else if (key == "fimTemplate") read_string(v, key, c.fim_template, w);
    else if (key == "adapter") {
      // One LoRA adapter ("PATH" or "PATH:SCALE") or several; "" or []: none.
      std::vector<std::string> next;
      bool ok = true;
      if (v.is_string()) {
        if (!v.get_string().empty()) next.emplace_back(resolve_adapter(std::string(v.get_string()), base_dir));
      } else if (auto* items = v.if_array()) {
        for (auto& item : *items) {
          if (!item.is_string() || item.get_string().empty()) ok = false;
          else next.emplace_back(resolve_adapter(std::string(item.get_string()), base_dir));
        }
      } else {
        ok = false;
      }
      if (ok) c.adapters = std::move(next);
      else w.push_back("setting astfill.adapter: expected \"PATH[:SCALE]\" or an array of them; ignored");
    }
    else if (key == "backend") read_backend(v, c.backend, w);
    else if (key == "logLevel") {
      std::string level;
      read_string(v, key, level, w);
      if (level.empty()) continue;
      if (auto parsed = log::parse_level(level)) {
        s.log_level = level;
        log::set_level(*parsed);
      } else {
        w.push_back("setting astfill.logLevel: '" + level +
                    "' is not one of error, warn, info, debug, trace; ignored");
      }
    } else if (key == "languages") {
      auto* langs = v.if_object();
      if (!langs) {
        w.push_back("setting astfill.languages: expected an object {languageId: true|false}; ignored");
        continue;
      }
      std::map<std::string, bool> next;
      bool ok = true;
      for (auto& [lang, on] : *langs) {
        if (!on.is_bool()) {
          w.push_back("setting astfill.languages." + std::string(lang) + ": expected true or false; ignored");
          ok = false;
          break;
        }
        next[std::string(lang)] = on.get_bool();
      }
      if (ok) c.languages = std::move(next);
    } else if (key == "context") {
      auto* ctx = v.if_object();
      if (!ctx) {
        w.push_back("setting astfill.context: expected an object; ignored");
        continue;
      }
      for (auto& [ck, cv] : *ctx) {
        std::string sub(ck);
        std::string full = "context." + sub;
        if (sub == "prefixTokens") read_count(cv, full, c.prefix_tokens, 0, 32768, w);
        else if (sub == "suffixTokens") read_count(cv, full, c.suffix_tokens, 0, 32768, w);
        else if (sub == "crossFileTokens") read_count(cv, full, c.cross_file_tokens, 0, 1000000, w);
        else w.push_back("setting astfill." + full + " is unknown; ignored");
      }
    } else if (key == "index") {
      auto* idx = v.if_object();
      if (!idx) {
        w.push_back("setting astfill.index: expected an object; ignored");
        continue;
      }
      for (auto& [ik, iv] : *idx) {
        std::string sub(ik);
        std::string full = "index." + sub;
        if (sub == "enable") read_bool(iv, full, s.index.enable, w);
        else if (sub == "maxFileKB") read_count(iv, full, s.index.max_file_kb, 1, 1 << 20, w);
        else if (sub == "includeDirs" || sub == "denyPaths") {
          // includeDirs: C/C++ include directories; denyPaths: more files
          // that are never read as context (gitignore patterns, index/deny.h).
          auto* items = iv.if_array();
          bool ok = items != nullptr;
          std::vector<std::string> next;
          if (items)
            for (auto& d : *items) {
              if (!d.is_string()) ok = false;
              else next.emplace_back(d.get_string());
            }
          if (!ok) w.push_back("setting astfill." + full + ": expected an array of strings; ignored");
          else if (sub == "includeDirs") s.index.include_dirs = std::move(next);
          else s.index.deny_paths = std::move(next);
        } else {
          w.push_back("setting astfill." + full + " is unknown; ignored");
        }
      }
    } else if (key == "vision") {
      // The vision-language model of astfill.image.*: {model, mmproj, maxImageTokens}.
      auto* vis = v.if_object();
      if (!vis) {
        w.push_back("setting astfill.vision: expected an object {model, mmproj, maxImageTokens}; ignored");
        continue;
      }
      for (auto& [vk, vv] : *vis) {
        std::string sub(vk);
        std::string full = "vision." + sub;
        if (sub == "model") read_string(vv, full, s.vision.model, w);
        else if (sub == "mmproj") read_string(vv, full, s.vision.mmproj, w);
        else if (sub == "maxImageTokens") read_count(vv, full, s.vision.max_image_tokens, 4, 16384, w);
        else w.push_back("setting astfill." + full + " is unknown; ignored");
      }
    } else if (key == "path" || key == "serverPath" || key == "trace") {
      // Editor-side settings (where the binary lives, protocol tracing): not ours.
    } else {
      w.push_back("setting astfill." + key + " is unknown; ignored");
    }
  }
  return w;
}

json::value to_json(const Settings& s) {
  const auto& c = s.completion;
  json::object langs;
  for (auto& [k, v] : c.languages) langs[k] = v;
  return json::object{
      {"enable", c.enable},
      {"languages", std::move(langs)},
      {"maxTokens", c.max_tokens},
      {"timeoutMs", c.timeout_ms},
      {"model", c.model},
      {"constraints", c.constrain},
      {"speculate", c.speculate},
      {"tokenHealing", c.heal},
      {"kvPersist", c.kv_persist},
      {"fimTemplate", c.fim_template},
      {"adapter", json::value_from(c.adapters)},
      {"backend", c.backend.remote() ? json::value(json::object{
                                           {"url", c.backend.url},
                                           {"model", c.backend.model},
                                           {"api", c.backend.api == completion::RemoteBackend::Api::OpenAI ? "openai" : "llamacpp"}})
                                     : json::value("local")},
      {"context", json::object{{"prefixTokens", c.prefix_tokens},
                               {"suffixTokens", c.suffix_tokens},
                               {"crossFileTokens", c.cross_file_tokens}}},
      {"index", json::object{{"enable", s.index.enable},
                             {"maxFileKB", s.index.max_file_kb},
                             {"includeDirs", json::value_from(s.index.include_dirs)},
                             {"denyPaths", json::value_from(s.index.deny_paths)}}},
      {"vision", json::object{{"model", s.vision.model},
                              {"mmproj", s.vision.mmproj},
                              {"maxImageTokens", s.vision.max_image_tokens}}},
      {"logLevel", s.log_level.empty() ? std::string(log::level_name(log::level())) : s.log_level},
  };
}

}  // namespace astfill::lsp
