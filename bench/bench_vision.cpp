// bench_vision: the vision tower's cost per image on Qwen2.5-VL's real shapes
// (32 blocks of 1280, 16 heads, SwiGLU 3420, windows of 8x8 patches with full
// attention at blocks 7/15/23/31, merger to 2048) with random weights, f32
// against int8, at the sizes the issue names. The tower is written once as an
// F16 mmproj GGUF in a temporary folder (about 1.3 GB), then loaded per
// weight mode. Prints one JSON object: a row per (image, weights) with the
// grid, image tokens and milliseconds per image (each run's too: the first
// after a load is the one a user waits for), and the process's peak RSS.
//
// --lm-layers L1,L2: the LM side on Qwen2.5-VL-3B's LM shapes (width 2048,
// 16/2 heads of 128, SwiGLU 11008, vocabulary 151936, M-RoPE [16, 24, 24];
// Q8_0 random weights, run int8) with L1 and L2 layers instead of 36: the
// prefill of a prompt holding one image (--lm-image-tokens rows of random
// embeddings between text) and greedy-free decode steps after it. Layers are
// alike, so time = fixed + layers x per_layer; the two counts give both, and
// the row "projected_36_layers" states the 3B's figures from that line (a
// projection, not a run: a 36-layer file is ~3.5 GB to write; -1 where the
// two runs' difference is not positive, as noise on a loaded machine makes it).
// Prefill is timed twice, in fresh sessions: the first pass after a load and
// the next.
//
// --write-vl DIR: writes a Qwen2.5-VL pair on the real shapes with random
// weights instead of timing anything: DIR/mmproj.gguf (the tower above, F16,
// --depth blocks) and DIR/lm.gguf (the 3B LM's shapes, Q8_0, --vl-layers
// layers, default 36: about 3.3 GB; the vocabulary's last three padding tokens
// named <|vision_start|>, <|vision_end|>, <|image_pad|>, the rest of the
// padding given text so that the random LM's description is not empty), for
// bench/attach_bench.mjs's --shapes 3b (`astfill serve` with them as
// astfill.vision). Prints {lm, mmproj, write_seconds}.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "bench/args.h"
#include "engine/gguf.h"
#include "engine/gguf_writer.h"
#include "engine/model.h"
#include "engine/tensor_types.h"
#include "tests/fixtures/random_model.h"
#include "vision/preprocess.h"
#include "vision/prompt.h"
#include "vision/tower.h"
#include "support/openmp_env.h"

using namespace astfill;

namespace {

void write_tower(const std::string& path, int64_t depth, int64_t out_dim) {
  const int64_t D = 1280, F = 3420, M = 4 * D;
  engine::GgufWriter w;
  w.set_string("general.architecture", "clip");
  w.set_string("clip.projector_type", "qwen2.5vl_merger");
  w.set_u32("clip.vision.attention.head_count", 16);
  w.set_f32("clip.vision.attention.layer_norm_epsilon", 1e-6f);
  w.set_u32("clip.vision.n_wa_pattern", 8);
  w.set_u32("clip.vision.window_size", 112);
  uint32_t seed = 1;
  auto tensor = [&](const std::string& name, std::vector<int64_t> ne, float scale, float offset = 0) {
    int64_t n = 1;
    for (int64_t d : ne) n *= d;
    const engine::GgmlType type = ne.size() == 1 ? engine::GgmlType::F32 : engine::GgmlType::F16;
    const uint32_t s = seed++;
    w.add_tensor_lazy(name, type, ne, [n, type, scale, offset, s](std::vector<uint8_t>& out) {
      std::mt19937 rng(s);
      std::normal_distribution<float> nd(0.0f, scale);
      std::vector<float> v(static_cast<size_t>(n));
      for (auto& x : v) x = offset + nd(rng);
      out.resize(engine::row_bytes(type, static_cast<size_t>(n)));
      engine::quantize_row(type, v.data(), out.data(), static_cast<size_t>(n));
    });
  };
  tensor("v.patch_embd.weight", {14, 14, 3, D}, 0.02f);
  tensor("v.patch_embd.weight.1", {14, 14, 3, D}, 0.02f);
  for (int64_t b = 0; b < depth; ++b) {
    const std::string p = "v.blk." + std::to_string(b) + ".";
    tensor(p + "ln1.weight", {D}, 0.05f, 1.0f);
    tensor(p + "ln2.weight", {D}, 0.05f, 1.0f);
    for (const char* a : {"attn_q", "attn_k", "attn_v", "attn_out"}) {
      tensor(p + a + ".weight", {D, D}, 0.02f);
      tensor(p + a + ".bias", {D}, 0.02f);
    }
    for (const char* f : {"ffn_gate", "ffn_up"}) {
      tensor(p + f + ".weight", {D, F}, 0.02f);
      tensor(p + f + ".bias", {F}, 0.02f);
    }
    tensor(p + "ffn_down.weight", {F, D}, 0.02f);
    tensor(p + "ffn_down.bias", {D}, 0.02f);
  }
  tensor("v.post_ln.weight", {D}, 0.05f, 1.0f);
  tensor("mm.0.weight", {M, M}, 0.01f);
  tensor("mm.0.bias", {M}, 0.02f);
  tensor("mm.2.weight", {M, out_dim}, 0.01f);
  tensor("mm.2.bias", {out_dim}, 0.02f);
  w.write(path);
}

vision::Image picture(uint32_t w, uint32_t h) {
  vision::Image img;
  img.width = w;
  img.height = h;
  img.rgb.resize(size_t{w} * h * 3);
  for (uint32_t y = 0; y < h; ++y)
    for (uint32_t x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c) img.rgb[(size_t{y} * w + x) * 3 + c] = static_cast<uint8_t>((x * (c + 1) + y * 3) & 0xFF);
  return img;
}

double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;
}

// The process's CPU time (user + system), which a loaded machine inflates
// far less than wall time: a one-time cost shows in it either way.
double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

engine::RandomModelSpec lm_3b_shapes(int64_t layers) {
  engine::RandomModelSpec spec = engine::tiny_spec("qwen2");
  auto& hp = spec.hp;
  hp.name = "random Qwen2.5-VL-3B LM shapes";
  hp.embedding_length = 2048;
  hp.block_count = static_cast<uint32_t>(layers);
  hp.feed_forward_length = 11008;
  hp.head_count = 16;
  hp.head_count_kv = 2;
  hp.head_dim = 128;
  hp.vocab_size = 151936;
  hp.context_length = 32768;
  hp.rope_freq_base = 1e6;
  hp.rope_sections = {16, 24, 24};
  spec.weight_type = engine::GgmlType::Q8_0;
  return spec;
}

struct LmTiming {
  int64_t layers = 0;
  double write_s = 0, load_s = 0, prefill_first_ms = 0, prefill_ms = 0, decode_ms_per_token = 0;
  double prefill_first_cpu_ms = 0, prefill_cpu_ms = 0;
  size_t prompt_rows = 0;
};

// One image (image_tokens rows, a square-ish grid) between two pieces of
// text, prefilled in one evaluate; then `decode` single-token steps.
LmTiming time_lm(const std::string& path, int64_t layers, int64_t image_tokens, int decode) {
  LmTiming t;
  t.layers = layers;
  auto t0 = std::chrono::steady_clock::now();
  engine::write_random_model(path, lm_3b_shapes(layers));
  t.write_s = seconds_since(t0);
  t0 = std::chrono::steady_clock::now();
  auto model = engine::Model::open(path, engine::LoadOptions{});
  t.load_s = seconds_since(t0);
  const int64_t E = model->hparams().embedding_length;
  int64_t units_h = 1;
  while ((units_h + 1) * (units_h + 1) <= image_tokens) ++units_h;
  const int64_t units_w = image_tokens / units_h;
  std::vector<float> image(static_cast<size_t>(units_h * units_w * E));
  std::mt19937 rng(7);
  std::normal_distribution<float> nd(0.0f, 0.02f);
  for (auto& v : image) v = nd(rng);
  vision::MultimodalPrompt prompt(E);
  prompt.add_text({151644, 872, 198});  // <|im_start|>user\n
  prompt.add_image(image, 2 * units_h, 2 * units_w);
  prompt.add_text({74785, 419, 2168, 13, 151645, 198, 151644, 77091, 198});
  t.prompt_rows = prompt.rows();
  engine::Session::Batch batch;
  batch.tokens = prompt.tokens;
  batch.mrope_positions = prompt.positions;
  batch.embeddings = prompt.row_embeddings();
  // The first pass after a load pays one-time costs (oneDNN primitives for
  // this row count, the kernels' buffers); a second session shows the rest.
  std::vector<float> logits;
  for (int pass = 0; pass < 2; ++pass) {
    engine::Session first(*model);
    t0 = std::chrono::steady_clock::now();
    const double c0 = cpu_seconds();
    logits = first.evaluate(batch);
    (pass == 0 ? t.prefill_first_ms : t.prefill_ms) = seconds_since(t0) * 1000.0;
    (pass == 0 ? t.prefill_first_cpu_ms : t.prefill_cpu_ms) = (cpu_seconds() - c0) * 1000.0;
  }
  engine::Session s(*model);
  s.evaluate(batch);
  int32_t next = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
  t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < decode; ++i) {
    engine::Session::Batch step;
    step.tokens = {next};
    const int32_t pos = prompt.next_position + i;
    step.mrope_positions = {pos, pos, pos};
    logits = s.evaluate(step);
    next = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
  }
  t.decode_ms_per_token = decode > 0 ? seconds_since(t0) * 1000.0 / decode : 0;
  std::filesystem::remove(path);
  return t;
}


// A token whose text is printable ASCII, byte-level spaces (U+0120) allowed.
bool printable_piece(const std::string& t) {
  if (t.empty()) return false;
  for (size_t i = 0; i < t.size(); ++i) {
    const auto c = static_cast<unsigned char>(t[i]);
    if (c >= 0x21 && c <= 0x7e) continue;
    if (c == 0xc4 && i + 1 < t.size() && static_cast<unsigned char>(t[i + 1]) == 0xa0) {
      ++i;
      continue;
    }
    return false;
  }
  return true;
}

// The 3B LM's shapes as a Qwen2.5-VL LM: written plain, then copied with the
// vision tokens in the vocabulary's padding (the tensors streamed from the
// plain file, never all in memory). The random tokenizer's padding entries
// ([PADn], unused) decode to nothing, and a random LM's greedy choice is
// nearly always one of the 151k of them: its description would be empty. So
// each padding entry becomes a normal token whose text is two (or three)
// printable tokens of the vocabulary joined (unique, never a merge's result):
// the description is text of about as many of the completion model's tokens
// as it has tokens, a little more.
void write_vl_lm(const std::string& path, int64_t layers) {
  const std::string plain = path + ".plain";
  engine::write_random_model(plain, lm_3b_shapes(layers));
  {
    const auto g = engine::GgufFile::open(plain);
    std::vector<std::string> tokens;
    for (const auto& [key, value] : g.metadata())
      if (key == "tokenizer.ggml.tokens") tokens = value.strings;
    const size_t n = tokens.size();
    if (n < 3) throw std::runtime_error(plain + ": no tokenizer");
    std::vector<std::string> pieces;
    std::set<std::string> taken(tokens.begin(), tokens.end());
    for (const auto& t : tokens)
      if (t.rfind("[PAD", 0) != 0 && t.rfind("<|", 0) != 0 && printable_piece(t)) pieces.push_back(t);
    std::vector<bool> renamed(n, false);
    size_t a = 0, b = 0, c = 0;
    bool triples = false;
    for (size_t i = 0; i + 3 < n; ++i) {
      if (tokens[i].rfind("[PAD", 0) != 0) continue;
      std::string name;
      do {
        name = pieces[a] + pieces[b] + (triples ? pieces[c] : std::string());
        if (++c == pieces.size() || !triples) {
          c = 0;
          if (++b == pieces.size()) {
            b = 0;
            if (++a == pieces.size()) {
              if (triples) throw std::runtime_error("too few printable tokens to name the padding");
              a = 0;
              triples = true;
            }
          }
        }
      } while (taken.count(name));
      taken.insert(name);
      tokens[i] = std::move(name);
      renamed[i] = true;
    }
    tokens[n - 3] = "<|vision_start|>";
    tokens[n - 2] = "<|vision_end|>";
    tokens[n - 1] = "<|image_pad|>";
    engine::GgufWriter w(g.alignment());
    for (auto [key, value] : g.metadata()) {
      if (key == "tokenizer.ggml.tokens") {
        value.strings = tokens;
      } else if (key == "tokenizer.ggml.token_type") {
        for (size_t i = 0; i < value.ints.size() && i < n; ++i)
          if (renamed[i]) value.ints[i] = 1;  // normal
        for (size_t i = n - 3; i < n; ++i) value.ints[i] = 3;  // control
      }
      w.set(key, value);
    }
    for (const auto& t : g.tensors()) {
      const uint8_t* data = t.data;
      const size_t bytes = t.bytes;
      w.add_tensor_lazy(t.name, t.type, t.ne, [data, bytes](std::vector<uint8_t>& out) {
        out.assign(data, data + bytes);
      });
    }
    w.write(path);
  }
  std::filesystem::remove(plain);
}

}  // namespace

int main(int argc, char** argv) {
  astfill::support::prefer_passive_openmp_wait(argv);  // as astfill itself runs
  std::string sizes = "448x448,1024x576", weights = "int8,f32", model;
  unsigned long long max_tokens = 256, repeat = 1, depth = 32, out_dim = 2048;
  ArgParser p("bench_vision", "The Qwen2.5-VL vision tower's ms per image, f32 vs int8, random weights (JSON).");
  p.option("--sizes", "WxH,...", "images to encode (default 448x448,1024x576)", bench::text_value(sizes));
  p.option("--weights", "LIST", "weight modes, of int8 and f32 (default int8,f32)", bench::text_value(weights));
  p.option("--max-tokens", "N", "the image token budget (default 256; 0: Qwen's own 1280)", [&](const std::string& v) {
    return parse_uint(v, "token budget", 0, 16384, max_tokens);
  });
  p.option("--repeat", "N", "encodes per row; the median is reported (default 1)",
           [&](const std::string& v) { return parse_uint(v, "count", 1, 100, repeat); });
  p.option("--depth", "N", "blocks (default 32, the real tower)", [&](const std::string& v) {
    return parse_uint(v, "block count", 1, 64, depth);
  });
  p.option("--mmproj", "F", "a tower file to use instead of writing the random one", bench::text_value(model));
  std::string lm_layers;
  unsigned long long lm_image_tokens = 256, decode = 16;
  p.option("--lm-layers", "L1,L2", "also time the 3B LM's prefill of an image with L1 and L2 layers (e.g. 2,6)",
           bench::text_value(lm_layers));
  p.option("--lm-image-tokens", "N", "image rows in the LM's prompt (default 256)", [&](const std::string& v) {
    return parse_uint(v, "image tokens", 1, 16384, lm_image_tokens);
  });
  p.option("--decode", "N", "decode steps after the LM's prefill (default 16)",
           [&](const std::string& v) { return parse_uint(v, "count", 0, 4096, decode); });
  std::string write_vl;
  unsigned long long vl_layers = 36;
  p.option("--write-vl", "DIR", "write a random Qwen2.5-VL pair on the real shapes (DIR/lm.gguf, DIR/mmproj.gguf) "
           "and time nothing", bench::text_value(write_vl));
  p.option("--vl-layers", "N", "the LM layers --write-vl writes (default 36, the 3B)", [&](const std::string& v) {
    return parse_uint(v, "layer count", 1, 64, vl_layers);
  });
  bench::parse_args_or_exit(p, "bench_vision", argc, argv);
  if (max_tokens == 0) max_tokens = 1280;
  if (!write_vl.empty()) {
    try {
      std::filesystem::create_directories(write_vl);
      const std::string lm = (std::filesystem::path(write_vl) / "lm.gguf").string();
      const std::string mm = (std::filesystem::path(write_vl) / "mmproj.gguf").string();
      const auto t0 = std::chrono::steady_clock::now();
      write_tower(mm, static_cast<int64_t>(depth), static_cast<int64_t>(out_dim));
      write_vl_lm(lm, static_cast<int64_t>(vl_layers));
      std::printf("{\"lm\":\"%s\",\"mmproj\":\"%s\",\"lm_layers\":%llu,\"tower_depth\":%llu,"
                  "\"write_seconds\":%.1f}\n",
                  lm.c_str(), mm.c_str(), vl_layers, depth, seconds_since(t0));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "bench_vision: %s\n", e.what());
      return 1;
    }
    return 0;
  }

  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("astfill-bench-vision-" + std::to_string(getpid()));
  fs::create_directories(dir);
  double write_s = 0;
  if (weights.empty()) {
    // --weights "": the LM rows only.
  } else if (model.empty()) {
    model = (dir / "mmproj-random.gguf").string();
    const auto t0 = std::chrono::steady_clock::now();
    write_tower(model, static_cast<int64_t>(depth), static_cast<int64_t>(out_dim));
    write_s = seconds_since(t0);
  }
  std::ostringstream rows;
  std::vector<LmTiming> lm;
  bool first = true;
  try {
    std::stringstream modes(weights);
    for (std::string mode; std::getline(modes, mode, ',');) {
      vision::TowerOptions to;
      if (mode == "int8") to.weights = engine::WeightMode::Int8;
      else if (mode == "f32") to.weights = engine::WeightMode::F32;
      else throw std::runtime_error("unknown weight mode '" + mode + "'");
      auto t0 = std::chrono::steady_clock::now();
      const auto tower = vision::VisionTower::load(model, to);
      const double load_s = seconds_since(t0);
      std::stringstream list(sizes);
      for (std::string size; std::getline(list, size, ',');) {
        unsigned w = 0, h = 0;
        if (std::sscanf(size.c_str(), "%ux%u", &w, &h) != 2) throw std::runtime_error("bad size '" + size + "'");
        const vision::Image img = picture(w, h);
        std::vector<double> ms, cpu_ms;
        vision::VisionInput in;
        for (unsigned long long r = 0; r < repeat; ++r) {
          t0 = std::chrono::steady_clock::now();
          const double c0 = cpu_seconds();
          in = vision::preprocess(img, tower.preprocess_options(static_cast<int64_t>(max_tokens)));
          const auto y = tower.encode(in);
          ms.push_back(seconds_since(t0) * 1000.0);
          cpu_ms.push_back((cpu_seconds() - c0) * 1000.0);
        }
        std::string each, cpu_each;
        for (size_t i = 0; i < ms.size(); ++i) {
          if (i) {
            each += ',';
            cpu_each += ',';
          }
          each += std::to_string(static_cast<long long>(ms[i] + 0.5));
          cpu_each += std::to_string(static_cast<long long>(cpu_ms[i] + 0.5));
        }
        std::sort(ms.begin(), ms.end());
        char row[1024];
        std::snprintf(row, sizeof row,
                      "%s{\"image\":\"%ux%u\",\"weights\":\"%s\",\"grid\":[%lld,%lld],\"image_tokens\":%lld,"
                      "\"ms_per_image\":%.1f,\"ms_each\":[%s],\"cpu_ms_each\":[%s],\"load_seconds\":%.2f}",
                      first ? "" : ",", w, h, mode.c_str(), static_cast<long long>(in.grid_h),
                      static_cast<long long>(in.grid_w), static_cast<long long>(in.patch_count() / 4),
                      ms[ms.size() / 2], each.c_str(), cpu_each.c_str(), load_s);
        rows << row;
        first = false;
        std::fprintf(stderr, "bench_vision: %s\n", row + (row[0] == ',' ? 1 : 0));
      }
    }
    std::stringstream layer_list(lm_layers);
    for (std::string l; std::getline(layer_list, l, ',');) {
      unsigned long long n = 0;
      if (auto error = parse_uint(l, "layer count", 1, 64, n)) throw std::runtime_error(*error);
      lm.push_back(time_lm((dir / "lm-random.gguf").string(), static_cast<int64_t>(n),
                           static_cast<int64_t>(lm_image_tokens), static_cast<int>(decode)));
      const auto& t = lm.back();
      std::fprintf(stderr, "bench_vision: LM %lld layers: prefill %.0f ms (first %.0f) for %zu rows, %.1f ms/token\n",
                   static_cast<long long>(t.layers), t.prefill_ms, t.prefill_first_ms, t.prompt_rows,
                   t.decode_ms_per_token);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_vision: %s\n", e.what());
    fs::remove_all(dir);
    return 1;
  }
  fs::remove_all(dir);
  std::string lm_json;
  if (!lm.empty()) {
    std::ostringstream o;
    o << ",\"lm\":{\"shapes\":\"qwen2.5-vl-3b LM (width 2048, ffn 11008, 16/2 heads, vocab 151936), q8_0 random, "
         "run int8\",\"image_tokens\":"
      << lm_image_tokens << ",\"rows\":[";
    for (size_t i = 0; i < lm.size(); ++i) {
      char row[512];
      std::snprintf(row, sizeof row,
                    "%s{\"layers\":%lld,\"prompt_rows\":%zu,\"prefill_first_ms\":%.1f,\"prefill_ms\":%.1f,"
                    "\"prefill_first_cpu_ms\":%.1f,\"prefill_cpu_ms\":%.1f,\"prefill_ms_per_row\":%.2f,"
                    "\"decode_ms_per_token\":%.2f,\"write_seconds\":%.1f,\"load_seconds\":%.2f}",
                    i ? "," : "", static_cast<long long>(lm[i].layers), lm[i].prompt_rows, lm[i].prefill_first_ms,
                    lm[i].prefill_ms, lm[i].prefill_first_cpu_ms, lm[i].prefill_cpu_ms,
                    lm[i].prefill_ms / static_cast<double>(lm[i].prompt_rows), lm[i].decode_ms_per_token,
                    lm[i].write_s, lm[i].load_s);
      o << row;
    }
    o << "]";
    if (lm.size() >= 2 && lm.front().layers != lm.back().layers) {
      // Least work: the line through the first and last counts.
      const auto& a = lm.front();
      const auto& b = lm.back();
      const double dl = static_cast<double>(b.layers - a.layers);
      const double rows_a = static_cast<double>(a.prompt_rows);
      const double pre_layer = (b.prefill_ms - a.prefill_ms) / dl, pre_fixed = a.prefill_ms - a.layers * pre_layer;
      const double dec_layer = (b.decode_ms_per_token - a.decode_ms_per_token) / dl,
                   dec_fixed = a.decode_ms_per_token - a.layers * dec_layer;
      char row[512];
      std::snprintf(row, sizeof row,
                    ",\"projected_36_layers\":{\"prefill_ms\":%.0f,\"prefill_ms_per_row\":%.2f,"
                    "\"prefill_ms_per_layer_row\":%.3f,\"prefill_fixed_ms\":%.0f,\"decode_ms_per_token\":%.1f}",
                    pre_fixed + 36 * pre_layer, (pre_fixed + 36 * pre_layer) / rows_a, pre_layer / rows_a, pre_fixed,
                    dec_layer > 0 ? dec_fixed + 36 * dec_layer : -1.0);
      o << row;
    }
    o << "}";
    lm_json = o.str();
  }
  std::printf("{\"tower\":\"qwen2.5-vl shapes, random weights\",\"depth\":%llu,\"max_image_tokens\":%llu,"
              "\"threads\":%d,\"write_seconds\":%.1f,\"rows\":[%s]%s,\"peak_rss_mb\":%.0f}\n",
              depth, max_tokens, engine::engine_threads(), write_s, rows.str().c_str(), lm_json.c_str(),
              peak_rss_mb());
  return 0;
}
