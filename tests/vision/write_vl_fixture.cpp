// write_vl_fixture LM.gguf MMPROJ.gguf IMAGE.png: a tiny random Qwen2.5-VL
// pair and a 100x60 test picture (the CLI tests' describe-image inputs).
#include <png.h>

#include <cstdio>
#include <cstring>
#include <exception>
#include <vector>

#include "tests/vision/vl_fixture.h"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: write_vl_fixture LM.gguf MMPROJ.gguf IMAGE.png\n");
    return 2;
  }
  try {
    astfill::testing::write_random_vl_lm(argv[1]);
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
