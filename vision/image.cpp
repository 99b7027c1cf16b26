// PNG through libpng's simplified API and JPEG through libjpeg's, both from
// memory. See image.h for the limits policy.
#include "vision/image.h"

#include <png.h>

#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <memory>
// jpeglib.h needs size_t and FILE declared before it.
#include <jerror.h>
#include <jpeglib.h>

#include "support/files.h"

namespace astfill::vision {

void check_dimensions(uint64_t width, uint64_t height, const std::string& name, const ImageLimits& limits) {
  if (width == 0 || height == 0)
    throw ImageError(name + ": image has no pixels (" + std::to_string(width) + "x" + std::to_string(height) + ")");
  if (width > limits.max_width || height > limits.max_height || width * height > limits.max_pixels)
    throw ImageError(name + ": image is " + std::to_string(width) + "x" + std::to_string(height) +
                     ", over the limit of " + std::to_string(limits.max_width) + "x" +
                     std::to_string(limits.max_height) + " and " + std::to_string(limits.max_pixels) + " pixels");
}

namespace {

// Straight (non-premultiplied) RGBA over white, in the stored values' space,
// as PIL's alpha_composite onto a white background does.
void composite_on_white(const std::vector<uint8_t>& rgba, Image& out) {
  const size_t n = size_t{out.width} * out.height;
  out.rgb.resize(n * 3);
  for (size_t i = 0; i < n; ++i) {
    const unsigned a = rgba[i * 4 + 3];
    for (int c = 0; c < 3; ++c) {
      const unsigned v = rgba[i * 4 + c] * a + 255u * (255u - a);
      out.rgb[i * 3 + c] = static_cast<uint8_t>((v + 127u) / 255u);
    }
  }
}

Image decode_png(std::string_view bytes, const std::string& name, const ImageLimits& limits) {
  png_image img;
  std::memset(&img, 0, sizeof img);
  img.version = PNG_IMAGE_VERSION;
  struct Free {
    png_image* p;
    ~Free() { png_image_free(p); }
  } free_guard{&img};
  if (!png_image_begin_read_from_memory(&img, bytes.data(), bytes.size()))
    throw ImageError(name + ": invalid PNG: " + img.message);
  check_dimensions(img.width, img.height, name, limits);
  const bool alpha = (img.format & PNG_FORMAT_FLAG_ALPHA) != 0;
  img.format = alpha ? PNG_FORMAT_RGBA : PNG_FORMAT_RGB;
  Image out;
  out.width = img.width;
  out.height = img.height;
  std::vector<uint8_t> pixels(PNG_IMAGE_SIZE(img));
  if (!png_image_finish_read(&img, nullptr, pixels.data(), 0, nullptr))
    throw ImageError(name + ": invalid or truncated PNG: " + img.message);
  if (alpha)
    composite_on_white(pixels, out);
  else
    out.rgb = std::move(pixels);
  return out;
}

struct JpegErrors {
  jpeg_error_mgr mgr;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  bool truncated;
};

[[noreturn]] void jpeg_fail(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<JpegErrors*>(cinfo->err);
  err->mgr.format_message(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

// libjpeg only warns when the data ends early and fills the rest with grey;
// a truncated file must be an error, other warnings (extraneous bytes) not.
void jpeg_message(j_common_ptr cinfo, int level) {
  auto* err = reinterpret_cast<JpegErrors*>(cinfo->err);
  if (level < 0 && err->mgr.msg_code == JWRN_JPEG_EOF) {
    err->truncated = true;
    std::snprintf(err->message, sizeof err->message, "truncated JPEG (the data ends before the image does)");
    std::longjmp(err->jump, 1);
  }
}

Image decode_jpeg(std::string_view bytes, const std::string& name, const ImageLimits& limits) {
  jpeg_decompress_struct cinfo;
  JpegErrors err;
  std::memset(&cinfo, 0, sizeof cinfo);
  std::memset(&err, 0, sizeof err);
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = jpeg_fail;
  err.mgr.emit_message = jpeg_message;
  // What changes after setjmp lives on the heap: longjmp leaves modified
  // automatic variables of this frame indeterminate, not heap objects.
  const auto out = std::make_unique<Image>();
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    throw ImageError(name + ": invalid JPEG: " + err.message);
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  jpeg_read_header(&cinfo, TRUE);
  // Checked before jpeg_start_decompress, which allocates for the whole image.
  if (cinfo.image_width == 0 || cinfo.image_height == 0 || cinfo.image_width > limits.max_width ||
      cinfo.image_height > limits.max_height ||
      uint64_t{cinfo.image_width} * cinfo.image_height > limits.max_pixels) {
    const uint64_t w = cinfo.image_width, h = cinfo.image_height;
    jpeg_destroy_decompress(&cinfo);
    check_dimensions(w, h, name, limits);
  }
  cinfo.out_color_space = JCS_RGB;
  cinfo.mem->max_memory_to_use = 1024L << 20;
  jpeg_start_decompress(&cinfo);
  if (cinfo.output_components != 3) {
    jpeg_destroy_decompress(&cinfo);
    throw ImageError(name + ": JPEG decodes to " + std::to_string(cinfo.output_components) +
                     " components, not RGB");
  }
  out->width = cinfo.output_width;
  out->height = cinfo.output_height;
  out->rgb.resize(size_t{out->width} * out->height * 3);
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = out->rgb.data() + size_t{cinfo.output_scanline} * out->width * 3;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return std::move(*out);
}

}  // namespace

Image decode_image(std::string_view bytes, const std::string& name, const ImageLimits& limits) {
  if (bytes.size() > limits.max_file_bytes)
    throw ImageError(name + ": image is " + std::to_string(bytes.size()) + " bytes, over the limit of " +
                     std::to_string(limits.max_file_bytes));
  static const char png_sig[] = "\x89PNG\r\n\x1a\n";
  if (bytes.size() >= 8 && std::memcmp(bytes.data(), png_sig, 8) == 0) return decode_png(bytes, name, limits);
  if (bytes.size() >= 3 && static_cast<uint8_t>(bytes[0]) == 0xFF && static_cast<uint8_t>(bytes[1]) == 0xD8 &&
      static_cast<uint8_t>(bytes[2]) == 0xFF)
    return decode_jpeg(bytes, name, limits);
  if (bytes.empty()) throw ImageError(name + ": empty file, not an image");
  throw ImageError(name + ": not a PNG or JPEG image (unknown signature)");
}

Image read_image(const std::string& path, const ImageLimits& limits) {
  auto file = support::read_file(path, limits.max_file_bytes);
  if (!file.ok()) {
    if (file.error_code == EFBIG)
      throw ImageError(path + ": image file is over the limit of " + std::to_string(limits.max_file_bytes) +
                       " bytes");
    throw ImageError(path + ": " + file.error);
  }
  return decode_image(file.text, path, limits);
}

}  // namespace astfill::vision
