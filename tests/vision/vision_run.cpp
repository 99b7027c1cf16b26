// Runs the vision path's stages on one image and writes each stage's output
// as raw little-endian arrays, for tests/reference/vision_ref.py to compare
// with its numpy reference:
//   PREFIX.resized.u8   the bicubic resize (--resize WxH), or the preprocess's
//   PREFIX.patches.f32  [patches][1176] preprocessed rows
//   PREFIX.window.i64   window order of the merged units; PREFIX.bounds.i64
//   PREFIX.rope.f32     [patches][head_dim/2] rotary angles
//   PREFIX.embeds.f32   [tokens][out_dim] the tower's output
//   PREFIX.mrope.i32    [rows][3] M-RoPE positions of 5 text tokens, the image, 3 text tokens
// and prints the shapes as one JSON line.
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

#include "engine/errors.h"
#include "vision/image.h"
#include "vision/preprocess.h"
#include "vision/prompt.h"
#include "vision/tower.h"

using namespace astfill;

namespace {

template <typename T>
void write(const std::string& path, const T* data, size_t n) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(n * sizeof(T)));
  if (!out) throw std::runtime_error("cannot write " + path);
}

int usage() {
  std::fprintf(stderr,
               "usage: vision_run [--model PATH] [--weights f32|int8] [--window-size PX] [--full-attention]\n"
               "                  [--max-tokens N] [--resize WxH] --out PREFIX IMAGE\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string model, prefix, image_path, resize;
  vision::TowerOptions topt;
  int64_t max_tokens = 256;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(a + " needs a value");
      return argv[++i];
    };
    try {
      if (a == "--model") model = next();
      else if (a == "--weights") topt.weights = next() == "f32" ? engine::WeightMode::F32 : engine::WeightMode::Int8;
      else if (a == "--window-size") topt.window_size = std::stoll(next());
      else if (a == "--full-attention") topt.full_attention_everywhere = true;
      else if (a == "--max-tokens") max_tokens = std::stoll(next());
      else if (a == "--resize") resize = next();
      else if (a == "--out") prefix = next();
      else if (!a.empty() && a[0] == '-') return usage();
      else image_path = a;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "vision_run: %s\n", e.what());
      return 2;
    }
  }
  if (prefix.empty() || image_path.empty()) return usage();
  try {
    const vision::Image image = vision::read_image(image_path);
    if (!resize.empty()) {
      unsigned w = 0, h = 0;
      if (std::sscanf(resize.c_str(), "%ux%u", &w, &h) != 2) return usage();
      const vision::Image r = vision::resize_bicubic(image, w, h);
      write(prefix + ".resized.u8", r.rgb.data(), r.rgb.size());
      std::printf("{\"width\":%u,\"height\":%u}\n", r.width, r.height);
      return 0;
    }
    std::optional<vision::VisionTower> tower;
    vision::PreprocessOptions popt;
    popt.max_tokens = max_tokens;
    if (!model.empty()) {
      tower.emplace(vision::VisionTower::load(model, topt));
      popt = tower->preprocess_options(max_tokens);
    }
    const vision::VisionInput in = vision::preprocess(image, popt);
    write(prefix + ".patches.f32", in.patches.data(), in.patches.size());
    std::printf("{\"grid_h\":%lld,\"grid_w\":%lld,\"row_size\":%lld", static_cast<long long>(in.grid_h),
                static_cast<long long>(in.grid_w), static_cast<long long>(in.row_size));
    if (tower) {
      const auto& c = tower->config();
      const auto wp = vision::window_partition(in.grid_h, in.grid_w, c.merge_size,
                                               c.window_size / (c.patch_size * c.merge_size));
      write(prefix + ".window.i64", wp.order.data(), wp.order.size());
      write(prefix + ".bounds.i64", wp.bounds.data(), wp.bounds.size());
      const auto angles = vision::rotary_angles(in.grid_h, in.grid_w, c.merge_size, c.head_dim, c.rope_theta);
      write(prefix + ".rope.f32", angles.data(), angles.size());
      const auto y = tower->encode(in);
      write(prefix + ".embeds.f32", y.data(), y.size());
      vision::MultimodalPrompt prompt(c.out_dim);
      prompt.add_text({1, 2, 3, 4, 5});
      prompt.add_image(y, in.grid_h, in.grid_w, c.merge_size);
      prompt.add_text({6, 7, 8});
      write(prefix + ".mrope.i32", prompt.positions.data(), prompt.positions.size());
      std::printf(",\"tokens\":%lld,\"out_dim\":%lld,\"head_dim\":%lld,\"depth\":%lld",
                  static_cast<long long>(in.patch_count() / 4), static_cast<long long>(c.out_dim),
                  static_cast<long long>(c.head_dim), static_cast<long long>(c.depth));
    }
    std::printf("}\n");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vision_run: %s\n", e.what());
    return 1;
  }
  return 0;
}
