// Image files for the vision path: PNG (libpng) and JPEG (libjpeg-turbo)
// decoded to 8-bit RGB. Every limit is checked before the pixels are
// allocated: the file's size before it is read, the header's width, height
// and pixel count before decoding starts, so a 100k x 100k header costs a few
// bytes of reading, not 30 GB. Truncated data, bad checksums and unsupported
// layouts become ImageError naming the file and what is wrong.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace astfill::vision {

class ImageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ImageLimits {
  uint64_t max_file_bytes = uint64_t{64} << 20;  // 64 MiB
  uint32_t max_width = 16384;
  uint32_t max_height = 16384;
  uint64_t max_pixels = 50'000'000;  // 150 MB of RGB
};

// 8-bit RGB, rows top to bottom, 3 bytes per pixel.
struct Image {
  uint32_t width = 0, height = 0;
  std::vector<uint8_t> rgb;

  uint8_t at(uint32_t x, uint32_t y, int c) const { return rgb[(size_t{y} * width + x) * 3 + c]; }
};

// Decodes PNG or JPEG bytes (told apart by their signature). `name` is what
// errors call the image (a path, "data URI"). Transparent pixels are
// composited onto white, as Hugging Face's image processors do.
Image decode_image(std::string_view bytes, const std::string& name, const ImageLimits& limits = {});

// Reads and decodes an image file, refusing files over limits.max_file_bytes
// before reading them.
Image read_image(const std::string& path, const ImageLimits& limits = {});

// Checks a header's dimensions against the limits (throws ImageError).
void check_dimensions(uint64_t width, uint64_t height, const std::string& name, const ImageLimits& limits);

}  // namespace astfill::vision
