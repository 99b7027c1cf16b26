// Image decoding (PNG, JPEG), hostile files, and the preprocessing's
// arithmetic that can be checked without a reference: smart_resize's
// rounding, the merge order of patch rows, the window partition.
#include <png.h>
#include <zlib.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <jpeglib.h>
#include <string>
#include <vector>

#include "../engine/temp_dir.h"
#include "vision/image.h"
#include "vision/preprocess.h"
#include "vision/tower.h"

using namespace astfill::vision;

namespace {

Image gradient(uint32_t w, uint32_t h) {
  Image img;
  img.width = w;
  img.height = h;
  img.rgb.resize(size_t{w} * h * 3);
  for (uint32_t y = 0; y < h; ++y)
    for (uint32_t x = 0; x < w; ++x) {
      uint8_t* p = &img.rgb[(size_t{y} * w + x) * 3];
      p[0] = static_cast<uint8_t>(x * 7 + y);
      p[1] = static_cast<uint8_t>(y * 5);
      p[2] = static_cast<uint8_t>((x ^ y) * 3);
    }
  return img;
}

std::string encode_png(const std::vector<uint8_t>& pixels, uint32_t w, uint32_t h, bool alpha) {
  png_image img;
  std::memset(&img, 0, sizeof img);
  img.version = PNG_IMAGE_VERSION;
  img.width = w;
  img.height = h;
  img.format = alpha ? PNG_FORMAT_RGBA : PNG_FORMAT_RGB;
  png_alloc_size_t size = 0;
  REQUIRE(png_image_write_to_memory(&img, nullptr, &size, 0, pixels.data(), 0, nullptr));
  std::string out(size, '\0');
  REQUIRE(png_image_write_to_memory(&img, out.data(), &size, 0, pixels.data(), 0, nullptr));
  out.resize(size);
  return out;
}

std::string encode_jpeg(const Image& img, int quality) {
  jpeg_compress_struct c;
  jpeg_error_mgr err;
  c.err = jpeg_std_error(&err);
  jpeg_create_compress(&c);
  unsigned char* buf = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&c, &buf, &size);
  c.image_width = img.width;
  c.image_height = img.height;
  c.input_components = 3;
  c.in_color_space = JCS_RGB;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, quality, TRUE);
  jpeg_start_compress(&c, TRUE);
  while (c.next_scanline < c.image_height) {
    JSAMPROW row = const_cast<uint8_t*>(&img.rgb[size_t{c.next_scanline} * img.width * 3]);
    jpeg_write_scanlines(&c, &row, 1);
  }
  jpeg_finish_compress(&c);
  std::string out(reinterpret_cast<char*>(buf), size);
  jpeg_destroy_compress(&c);
  std::free(buf);
  return out;
}

void put_be32(std::string& s, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) s[at + i] = static_cast<char>((v >> (24 - 8 * i)) & 0xFF);
}

std::string error_of(const std::string& bytes, const ImageLimits& limits = {}) {
  try {
    decode_image(bytes, "pic.png", limits);
  } catch (const ImageError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("PNG decodes to the pixels it was written with", "[image]") {
  const Image src = gradient(37, 23);
  const Image got = decode_image(encode_png(src.rgb, 37, 23, false), "a.png");
  CHECK(got.width == 37);
  CHECK(got.height == 23);
  CHECK(got.rgb == src.rgb);
}

TEST_CASE("PNG transparency is composited onto white", "[image]") {
  std::vector<uint8_t> rgba = {10, 20, 30, 255, 10, 20, 30, 0, 0, 0, 0, 128};
  const Image got = decode_image(encode_png(rgba, 3, 1, true), "a.png");
  CHECK(std::vector<uint8_t>(got.rgb.begin(), got.rgb.end()) ==
        std::vector<uint8_t>{10, 20, 30, 255, 255, 255, 127, 127, 127});
}

TEST_CASE("hostile PNGs get errors naming the file and the fault", "[image]") {
  const Image src = gradient(64, 64);
  const std::string png = encode_png(src.rgb, 64, 64, false);
  SECTION("truncated") {
    const std::string e = error_of(png.substr(0, png.size() / 2));
    CHECK_THAT(e, Catch::Contains("pic.png") && Catch::Contains("PNG"));
  }
  SECTION("wrong CRC on the header chunk") {
    std::string bad = png;
    bad[29] = static_cast<char>(bad[29] ^ 0x55);  // IHDR's CRC: 8 signature + 4 length + 4 type + 13 data
    CHECK_THAT(error_of(bad), Catch::Contains("pic.png") && Catch::Contains("CRC"));
  }
  SECTION("a 100000 x 100000 header with a valid CRC is refused before any allocation") {
    std::string big = png;
    put_be32(big, 16, 100000);
    put_be32(big, 20, 100000);
    put_be32(big, 29, static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(big.data() + 12), 17)));
    const std::string e = error_of(big);
    CHECK_THAT(e, Catch::Contains("100000x100000") && Catch::Contains("over the limit"));
  }
  SECTION("not an image at all") {
    CHECK_THAT(error_of("GIF89a...."), Catch::Contains("not a PNG or JPEG"));
    CHECK_THAT(error_of(""), Catch::Contains("empty"));
  }
  SECTION("over the byte limit") {
    ImageLimits small;
    small.max_file_bytes = 100;
    CHECK_THAT(error_of(png, small), Catch::Contains("over the limit of 100"));
  }
}

TEST_CASE("JPEG decodes, and hostile JPEGs get clear errors", "[image]") {
  const Image src = gradient(40, 24);
  const std::string jpg = encode_jpeg(src, 100);
  const Image got = decode_image(jpg, "a.jpg");
  REQUIRE(got.width == 40);
  REQUIRE(got.height == 24);
  double total = 0;
  for (size_t i = 0; i < got.rgb.size(); ++i) total += std::abs(int(got.rgb[i]) - int(src.rgb[i]));
  CHECK(total / static_cast<double>(got.rgb.size()) < 12.0);  // lossy (and chroma-subsampled), but the same picture

  SECTION("truncated") {
    CHECK_THAT(error_of(jpg.substr(0, jpg.size() * 2 / 3)), Catch::Contains("truncated JPEG"));
  }
  SECTION("a 60000 x 60000 frame header") {
    std::string big = jpg;
    const size_t sof = big.find("\xFF\xC0");
    REQUIRE(sof != std::string::npos);
    big[sof + 5] = static_cast<char>(60000 >> 8);
    big[sof + 6] = static_cast<char>(60000 & 0xFF);
    big[sof + 7] = static_cast<char>(60000 >> 8);
    big[sof + 8] = static_cast<char>(60000 & 0xFF);
    CHECK_THAT(error_of(big), Catch::Contains("60000x60000") && Catch::Contains("over the limit"));
  }
}

TEST_CASE("read_image refuses a missing or oversized file by name", "[image]") {
  astfill::testing::TempDir dir;
  CHECK_THROWS_WITH(read_image(dir.file("none.png")), Catch::Contains("none.png"));
  const Image src = gradient(64, 64);
  const std::string png = encode_png(src.rgb, 64, 64, false);
  std::ofstream(dir.file("a.png"), std::ios::binary) << png;
  ImageLimits small;
  small.max_file_bytes = 64;
  CHECK_THROWS_WITH(read_image(dir.file("a.png"), small), Catch::Contains("a.png") && Catch::Contains("limit"));
  CHECK(read_image(dir.file("a.png")).rgb == src.rgb);
}

TEST_CASE("smart_resize keeps multiples of 28 within the token budget, rounding as Python", "[preprocess]") {
  const int64_t f = 28, lo = 4 * 784, hi = 256 * 784;
  using P = std::pair<int64_t, int64_t>;
  CHECK(smart_resize(448, 448, f, lo, hi) == P{448, 448});
  CHECK(smart_resize(576, 1024, f, lo, hi) == P{336, 588});
  CHECK(smart_resize(1080, 1920, f, lo, hi) == P{336, 588});
  CHECK(smart_resize(1080, 1920, f, lo, 1280 * 784) == P{728, 1316});
  CHECK(smart_resize(10, 10, f, lo, hi) == P{56, 56});
  CHECK(smart_resize(42, 70, f, lo, hi) == P{56, 56});  // 1.5 -> 2 and 2.5 -> 2: half to even
  CHECK(smart_resize(14, 2800, f, lo, hi) == P{28, 2800});
  CHECK_THROWS_WITH(smart_resize(10, 2010, f, lo, hi), Catch::Contains("aspect ratio"));
}

TEST_CASE("preprocess lays patch rows out in 2x2 merge order", "[preprocess]") {
  // 56x56 stays 56x56 (no resize): a 4x4 grid of patches; pixel (x, y) of
  // channel 0 encodes its patch column and row.
  Image img;
  img.width = img.height = 56;
  img.rgb.assign(56 * 56 * 3, 0);
  for (uint32_t y = 0; y < 56; ++y)
    for (uint32_t x = 0; x < 56; ++x) img.rgb[(y * 56 + x) * 3] = static_cast<uint8_t>((y / 14) * 16 + x / 14);
  PreprocessOptions o;
  const VisionInput in = preprocess(img, o);
  REQUIRE(in.grid_h == 4);
  REQUIRE(in.grid_w == 4);
  REQUIRE(in.row_size == 1176);
  auto patch_of_row = [&](int64_t r) {
    const float v = in.patches[static_cast<size_t>(r * 1176)] * o.std[0] + o.mean[0];
    return static_cast<int>(std::lround(v * 255.0f));
  };
  // Rows: (block row, block column, row in block, column in block).
  const int expected[16] = {0, 1, 16, 17, 2, 3, 18, 19, 32, 33, 48, 49, 34, 35, 50, 51};
  for (int r = 0; r < 16; ++r) CHECK(patch_of_row(r) == expected[r]);
  // Both frames of a still image are the same.
  for (int64_t i = 0; i < 196; ++i) CHECK(in.patches[static_cast<size_t>(i)] == in.patches[static_cast<size_t>(196 + i)]);
}

TEST_CASE("window partition: 8x8-patch windows, and one window when it covers the image", "[tower]") {
  // 12x20 patches = 6x10 merged units; windows of 4x4 units.
  const WindowPartition wp = window_partition(12, 20, 2, 4);
  CHECK(wp.bounds == std::vector<int64_t>{0, 64, 128, 160, 192, 224, 240});
  CHECK(wp.order.size() == 60);
  CHECK(std::vector<int64_t>(wp.order.begin(), wp.order.begin() + 5) == std::vector<int64_t>{0, 1, 2, 3, 10});
  const WindowPartition one = window_partition(12, 20, 2, 10);
  CHECK(one.bounds == std::vector<int64_t>{0, 240});
  for (int64_t i = 0; i < 60; ++i) CHECK(one.order[static_cast<size_t>(i)] == i);
}
