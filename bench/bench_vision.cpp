// bench_vision: the vision tower's cost per image on Qwen2.5-VL's real shapes
// (32 blocks of 1280, 16 heads, SwiGLU 3420, windows of 8x8 patches with full
// attention at blocks 7/15/23/31, merger to 2048) with random weights, f32
// against int8, at the sizes the issue names. The tower is written once as an
// F16 mmproj GGUF in a temporary folder (about 1.3 GB), then loaded per
// weight mode. Prints one JSON object: a row per (image, weights) with the
// grid, image tokens and milliseconds per image, and the process's peak RSS.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "bench/args.h"
#include "engine/gguf_writer.h"
#include "engine/tensor_types.h"
#include "vision/preprocess.h"
#include "vision/tower.h"

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

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
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
  bench::parse_args_or_exit(p, "bench_vision", argc, argv);
  if (max_tokens == 0) max_tokens = 1280;

  namespace fs = std::filesystem;
  fs::path dir;
  double write_s = 0;
  if (model.empty()) {
    dir = fs::temp_directory_path() / ("astfill-bench-vision-" + std::to_string(getpid()));
    fs::create_directories(dir);
    model = (dir / "mmproj-random.gguf").string();
    const auto t0 = std::chrono::steady_clock::now();
    write_tower(model, static_cast<int64_t>(depth), static_cast<int64_t>(out_dim));
    write_s = seconds_since(t0);
  }
  std::ostringstream rows;
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
        std::vector<double> ms;
        vision::VisionInput in;
        for (unsigned long long r = 0; r < repeat; ++r) {
          t0 = std::chrono::steady_clock::now();
          in = vision::preprocess(img, tower.preprocess_options(static_cast<int64_t>(max_tokens)));
          const auto y = tower.encode(in);
          ms.push_back(seconds_since(t0) * 1000.0);
        }
        std::sort(ms.begin(), ms.end());
        char row[512];
        std::snprintf(row, sizeof row,
                      "%s{\"image\":\"%ux%u\",\"weights\":\"%s\",\"grid\":[%lld,%lld],\"image_tokens\":%lld,"
                      "\"ms_per_image\":%.1f,\"load_seconds\":%.2f}",
                      first ? "" : ",", w, h, mode.c_str(), static_cast<long long>(in.grid_h),
                      static_cast<long long>(in.grid_w), static_cast<long long>(in.patch_count() / 4),
                      ms[ms.size() / 2], load_s);
        rows << row;
        first = false;
        std::fprintf(stderr, "bench_vision: %s\n", row + (row[0] == ',' ? 1 : 0));
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_vision: %s\n", e.what());
    if (!dir.empty()) fs::remove_all(dir);
    return 1;
  }
  if (!dir.empty()) fs::remove_all(dir);
  std::printf("{\"tower\":\"qwen2.5-vl shapes, random weights\",\"depth\":%llu,\"max_image_tokens\":%llu,"
              "\"threads\":%d,\"write_seconds\":%.1f,\"rows\":[%s],\"peak_rss_mb\":%.0f}\n",
              depth, max_tokens, engine::engine_threads(), write_s, rows.str().c_str(), peak_rss_mb());
  return 0;
}
