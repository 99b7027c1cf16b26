// See preprocess.h. The resize reproduces PIL's arithmetic (Resample.c's
// scheme as documented by its behaviour: support 2 x scale, box-centred taps,
// normalised weights, 22-bit fixed point, uint8 between the passes) so the
// model sees the pixels it was trained on; tests/reference/vision_ref.py
// checks it against PIL itself.
#include "vision/preprocess.h"

#include <algorithm>
#include <cmath>

namespace astfill::vision {

namespace {

// Python 3's round(): half to even (nearbyint under the default rounding mode).
int64_t py_round(double x) { return static_cast<int64_t>(std::nearbyint(x)); }

double cubic(double x) {
  constexpr double a = -0.5;
  x = std::fabs(x);
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
  if (x < 2.0) return (((x - 5.0) * x + 8.0) * x - 4.0) * a;
  return 0.0;
}

constexpr int kPrecisionBits = 32 - 8 - 2;

// For each output position: the first input index, the tap count, and the
// fixed-point weights (ksize per output).
struct Taps {
  std::vector<int> first, count;
  std::vector<int32_t> weights;
  int ksize = 0;
};

Taps compute_taps(int in_size, int out_size) {
  const double scale = static_cast<double>(in_size) / out_size;
  const double filterscale = std::max(scale, 1.0);
  const double support = 2.0 * filterscale;
  Taps t;
  t.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  t.first.resize(out_size);
  t.count.resize(out_size);
  t.weights.assign(static_cast<size_t>(out_size) * t.ksize, 0);
  std::vector<double> k(t.ksize);
  for (int xx = 0; xx < out_size; ++xx) {
    const double center = (xx + 0.5) * scale;
    const double ss = 1.0 / filterscale;
    int xmin = static_cast<int>(center - support + 0.5);  // truncation toward zero, as C's cast
    if (xmin < 0) xmin = 0;
    int xmax = static_cast<int>(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    xmax -= xmin;
    double ww = 0.0;
    for (int x = 0; x < xmax; ++x) {
      k[x] = cubic((x + xmin - center + 0.5) * ss);
      ww += k[x];
    }
    for (int x = 0; x < xmax; ++x) {
      const double w = ww != 0.0 ? k[x] / ww : k[x];
      const double f = w * (1 << kPrecisionBits);
      t.weights[static_cast<size_t>(xx) * t.ksize + x] = static_cast<int32_t>(w < 0 ? f - 0.5 : f + 0.5);
    }
    t.first[xx] = xmin;
    t.count[xx] = xmax;
  }
  return t;
}

uint8_t clip8(int64_t acc) {
  const int64_t v = acc >> kPrecisionBits;  // arithmetic shift: floor
  return static_cast<uint8_t>(std::clamp<int64_t>(v, 0, 255));
}

Image resize_horizontal(const Image& src, uint32_t width) {
  const Taps t = compute_taps(static_cast<int>(src.width), static_cast<int>(width));
  Image out;
  out.width = width;
  out.height = src.height;
  out.rgb.resize(size_t{width} * src.height * 3);
#pragma omp parallel for if (src.height > 64)
  for (int64_t y = 0; y < src.height; ++y) {
    const uint8_t* row = src.rgb.data() + static_cast<size_t>(y) * src.width * 3;
    uint8_t* dst = out.rgb.data() + static_cast<size_t>(y) * width * 3;
    for (uint32_t xx = 0; xx < width; ++xx) {
      const int32_t* w = t.weights.data() + size_t{xx} * t.ksize;
      for (int c = 0; c < 3; ++c) {
        int64_t acc = int64_t{1} << (kPrecisionBits - 1);
        for (int x = 0; x < t.count[xx]; ++x) acc += int64_t{row[(size_t{static_cast<uint32_t>(t.first[xx] + x)}) * 3 + c]} * w[x];
        dst[size_t{xx} * 3 + c] = clip8(acc);
      }
    }
  }
  return out;
}

Image resize_vertical(const Image& src, uint32_t height) {
  const Taps t = compute_taps(static_cast<int>(src.height), static_cast<int>(height));
  Image out;
  out.width = src.width;
  out.height = height;
  out.rgb.resize(size_t{src.width} * height * 3);
  const size_t stride = size_t{src.width} * 3;
#pragma omp parallel for if (height > 64)
  for (int64_t yy = 0; yy < height; ++yy) {
    const int32_t* w = t.weights.data() + static_cast<size_t>(yy) * t.ksize;
    uint8_t* dst = out.rgb.data() + static_cast<size_t>(yy) * stride;
    for (size_t i = 0; i < stride; ++i) {
      int64_t acc = int64_t{1} << (kPrecisionBits - 1);
      for (int y = 0; y < t.count[yy]; ++y) acc += int64_t{src.rgb[(static_cast<size_t>(t.first[yy] + y)) * stride + i]} * w[y];
      dst[i] = clip8(acc);
    }
  }
  return out;
}

}  // namespace

std::pair<int64_t, int64_t> smart_resize(int64_t height, int64_t width, int64_t factor, int64_t min_pixels,
                                         int64_t max_pixels) {
  if (height <= 0 || width <= 0) throw ImageError("image has no pixels");
  if (static_cast<double>(std::max(height, width)) / static_cast<double>(std::min(height, width)) > 200.0)
    throw ImageError("image aspect ratio " + std::to_string(width) + ":" + std::to_string(height) +
                     " is over 200 (the vision model cannot take it)");
  int64_t h = std::max(factor, py_round(static_cast<double>(height) / factor) * factor);
  int64_t w = std::max(factor, py_round(static_cast<double>(width) / factor) * factor);
  if (h * w > max_pixels) {
    const double beta = std::sqrt(static_cast<double>(height) * width / static_cast<double>(max_pixels));
    h = std::max(factor, static_cast<int64_t>(std::floor(height / beta / factor)) * factor);
    w = std::max(factor, static_cast<int64_t>(std::floor(width / beta / factor)) * factor);
  } else if (h * w < min_pixels) {
    const double beta = std::sqrt(static_cast<double>(min_pixels) / (static_cast<double>(height) * width));
    h = static_cast<int64_t>(std::ceil(height * beta / factor)) * factor;
    w = static_cast<int64_t>(std::ceil(width * beta / factor)) * factor;
  }
  return {h, w};
}

Image resize_bicubic(const Image& src, uint32_t width, uint32_t height) {
  if (src.width == 0 || src.height == 0 || width == 0 || height == 0)
    throw ImageError("cannot resize an empty image");
  if (width == src.width && height == src.height) return src;
  if (width == src.width) return resize_vertical(src, height);
  const Image wide = resize_horizontal(src, width);
  if (height == src.height) return wide;
  return resize_vertical(wide, height);
}

VisionInput preprocess(const Image& image, const PreprocessOptions& o) {
  const int64_t factor = o.factor();
  if (o.max_tokens < 1 || o.min_tokens < 1 || o.min_tokens > o.max_tokens)
    throw ImageError("image token budget must satisfy 1 <= min (" + std::to_string(o.min_tokens) +
                     ") <= max (" + std::to_string(o.max_tokens) + ")");
  const auto [h, w] = smart_resize(image.height, image.width, factor, o.min_tokens * factor * factor,
                                   o.max_tokens * factor * factor);
  const Image resized = resize_bicubic(image, static_cast<uint32_t>(w), static_cast<uint32_t>(h));
  const int p = o.patch_size, m = o.merge_size, T = o.temporal_patch_size;
  VisionInput in;
  in.grid_h = h / p;
  in.grid_w = w / p;
  in.row_size = int64_t{3} * T * p * p;
  in.patches.resize(static_cast<size_t>(in.patch_count() * in.row_size));
  int64_t row = 0;
  for (int64_t bh = 0; bh < in.grid_h / m; ++bh)
    for (int64_t bw = 0; bw < in.grid_w / m; ++bw)
      for (int mh = 0; mh < m; ++mh)
        for (int mw = 0; mw < m; ++mw, ++row) {
          const int64_t y0 = (bh * m + mh) * p, x0 = (bw * m + mw) * p;
          float* dst = in.patches.data() + row * in.row_size;
          for (int c = 0; c < 3; ++c)
            for (int t = 0; t < T; ++t)
              for (int y = 0; y < p; ++y)
                for (int x = 0; x < p; ++x) {
                  const float v = static_cast<float>(resized.at(static_cast<uint32_t>(x0 + x),
                                                                static_cast<uint32_t>(y0 + y), c));
                  // HF: (v * (1/255) - mean) / std, in float32.
                  *dst++ = (v * (1.0f / 255.0f) - o.mean[c]) / o.std[c];
                }
        }
  return in;
}

}  // namespace astfill::vision
