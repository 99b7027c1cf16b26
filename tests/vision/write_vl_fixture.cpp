// write_vl_fixture LM.gguf MMPROJ.gguf IMAGE.png [SEED SCALE]: a tiny random
// Qwen2.5-VL pair and a 100x60 test picture (the CLI tests' describe-image
// inputs). SEED and SCALE are the LM's (default 1 and 0.02, an LM that writes
// line breaks only; 1 0.1 writes text).
#include <png.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <vector>

#include "tests/vision/vl_fixture.h"

int main(int argc, char** argv) {
  if (argc != 4 && argc != 6) {
    std::fprintf(stderr, "usage: write_vl_fixture LM.gguf MMPROJ.gguf IMAGE.png [SEED SCALE]\n");
    return 2;
  }
  unsigned long seed = 1;
  float scale = 0.02f;
  if (argc == 6) {
    char* end = nullptr;
    seed = std::strtoul(argv[4], &end, 10);
    bool ok = *argv[4] && !*end && seed <= 0xffffffffUL;
    scale = std::strtof(argv[5], &end);
    ok = ok && *argv[5] && !*end && scale > 0;
    if (!ok) {
      std::fprintf(stderr, "write_vl_fixture: SEED is a number from 0 to 4294967295, SCALE a positive number\n");
      return 2;
    }
  }
  try {
    astfill::testing::write_random_vl_lm(argv[1], static_cast<uint32_t>(seed), scale);
    astfill::testing::write_random_mmproj(argv[2]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "write_vl_fixture: %s\n", e.what());
    return 1;
  }
  const unsigned w = 100, h = 60;
  std::vector<unsigned char> rgb(w * h * 3);
  for (unsigned y = 0; y < h; ++y)
    for (unsigned x = 0; x < w; ++x) {
      unsigned char* p = &rgb[(y * w + x) * 3];
      p[0] = static_cast<unsigned char>(x * 2);
      p[1] = static_cast<unsigned char>(y * 4);
      p[2] = static_cast<unsigned char>((x + y) & 0xFF);
    }
  png_image img;
  std::memset(&img, 0, sizeof img);
  img.version = PNG_IMAGE_VERSION;
  img.width = w;
  img.height = h;
  img.format = PNG_FORMAT_RGB;
  if (!png_image_write_to_file(&img, argv[3], 0, rgb.data(), 0, nullptr)) {
    std::fprintf(stderr, "write_vl_fixture: cannot write %s: %s\n", argv[3], img.message);
    return 1;
  }
  return 0;
}
