// The int8 path on every instruction set oneDNN may pick. Without VNNI its
// u8 x s8 kernels add pairs of products into saturating 16-bit sums
// (vpmaddubsw), so 8-bit activations with zero point 128 (255 x 127 x 2 >
// 32767) come out clipped; Linear uses 7-bit activations there. CTest runs
// these cases three times: natively, and with ONEDNN_MAX_CPU_ISA=AVX2 and
// =AVX512_CORE (no VNNI), which this machine's oneDNN honours.
#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <random>
#include <string>

#include "engine/linear.h"
#include "engine/model.h"
#include "reference.h"
#include "temp_dir.h"
#include "tests/fixtures/random_model.h"

using namespace astfill::engine;
using namespace astfill::testing;

namespace {

// The exact product of what Linear quantises, computed without oneDNN: x and
// W rounded as Linear rounds them (per row, `levels` steps each side), summed
// in 64-bit integers.
std::vector<double> quantised_reference(const std::vector<float>& x, const std::vector<float>& w, int64_t rows,
                                        int64_t in, int64_t out, int levels) {
  std::vector<int8_t> qw(static_cast<size_t>(in * out));
  std::vector<float> sw(static_cast<size_t>(out));
  for (int64_t n = 0; n < out; ++n) sw[n] = quantize_row_int8(w.data() + n * in, qw.data() + n * in, static_cast<size_t>(in));
  std::vector<double> y(static_cast<size_t>(rows * out));
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x.data() + r * in;
    float amax = 0;
    for (int64_t k = 0; k < in; ++k) amax = std::max(amax, std::fabs(xr[k]));
    const float scale = amax > 0 ? amax / static_cast<float>(levels) : 1.0f;
    const float inv = 1.0f / scale;
    for (int64_t n = 0; n < out; ++n) {
      int64_t acc = 0;
      for (int64_t k = 0; k < in; ++k)
        acc += static_cast<int64_t>(std::nearbyint(xr[k] * inv)) * qw[static_cast<size_t>(n * in + k)];
      y[static_cast<size_t>(r * out + n)] = double(scale) * sw[n] * static_cast<double>(acc);
    }
  }
  return y;
}

// The largest |want - got| over all outputs, and the largest |want|.
struct WorstError {
  double worst, norm;
};
WorstError worst_error(const std::vector<double>& want, const std::vector<float>& got) {
  WorstError e{0, 0};
  for (size_t i = 0; i < got.size(); ++i) {
    e.worst = std::max(e.worst, std::fabs(want[i] - got[i]));
    e.norm = std::max(e.norm, std::fabs(want[i]));
  }
  return e;
}

std::string isa_cap() {
  const char* cap = std::getenv("ONEDNN_MAX_CPU_ISA");
  return cap ? cap : "";
}

}  // namespace

TEST_CASE("int8 activations use the range the instruction set sums exactly", "[int8_isa]") {
  const std::string cap = isa_cap();
  INFO("ONEDNN_MAX_CPU_ISA=" << cap << ", activation levels " << int8_activation_levels());
  // Capped below VNNI, the path must be the 7-bit one (else the capped runs
  // below would test nothing new).
  if (cap == "AVX2" || cap == "AVX512_CORE") CHECK(int8_activation_levels() == 63);
  CHECK((int8_activation_levels() == 63 || int8_activation_levels() == 127));
}

// Positive activations against positive weights: every pair of u8 x s8
// products is near 255 x 127 x 2 with 8-bit activations, far past a 16-bit
// sum. The result must be the exact product of the quantised values.
TEST_CASE("int8 linear layers are exact where 16-bit pair sums would saturate", "[int8_isa]") {
  const int64_t in = 512, out = 64;
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> pos(0.6f, 1.0f);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> w(static_cast<size_t>(in * out));
  for (int64_t n = 0; n < out; ++n)
    for (int64_t k = 0; k < in; ++k)  // half the rows all positive, half of mixed sign with a positive mean
      w[static_cast<size_t>(n * in + k)] = n % 2 ? 0.05f * pos(rng) : 0.05f * (0.8f + 0.3f * normal(rng));
  for (int64_t rows : {1, 7, 64}) {
    std::vector<float> x(static_cast<size_t>(rows * in));
    for (auto& v : x) v = pos(rng);
    Linear l = Linear::from_f32(w.data(), in, out, nullptr, WeightMode::Int8);
    std::vector<float> y(static_cast<size_t>(rows * out));
    l.forward(x.data(), rows, y.data());
    auto want = quantised_reference(x, w, rows, in, out, int8_activation_levels());
    const auto [worst, norm] = worst_error(want, y);
    INFO("ONEDNN_MAX_CPU_ISA=" << isa_cap() << " rows " << rows << ": worst error " << worst << " of max " << norm);
    CHECK(worst <= 1e-5 * norm);  // f32 rounding of the scales only
  }
}

// Activations with a few large channels (as trained models have), random
// weights: the exact product of the quantised values, and within
// quantisation error (7-bit activations double the 8-bit error) of the f64
// product.
TEST_CASE("int8 linear layers stay within quantisation error with outlier channels", "[int8_isa]") {
  const int64_t in = 896, out = 256, rows = 32;
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> w(static_cast<size_t>(in * out)), x(static_cast<size_t>(rows * in));
  for (auto& v : w) v = 0.02f * normal(rng);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t k = 0; k < in; ++k) x[static_cast<size_t>(r * in + k)] = (k % 64 < 2 ? 6.0f : 1.0f) * normal(rng);
  Linear l = Linear::from_f32(w.data(), in, out, nullptr, WeightMode::Int8);
  std::vector<float> y(static_cast<size_t>(rows * out));
  l.forward(x.data(), rows, y.data());
  auto quantised = quantised_reference(x, w, rows, in, out, int8_activation_levels());
  double worst = 0, norm = 0, worst_quantised = 0;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t n = 0; n < out; ++n) {
      const size_t i = static_cast<size_t>(r * out + n);
      worst_quantised = std::max(worst_quantised, std::fabs(quantised[i] - y[i]));
      double want = 0;
      for (int64_t k = 0; k < in; ++k) want += double(x[static_cast<size_t>(r * in + k)]) * w[static_cast<size_t>(n * in + k)];
      worst = std::max(worst, std::fabs(want - y[static_cast<size_t>(r * out + n)]));
      norm = std::max(norm, std::fabs(want));
    }
  INFO("ONEDNN_MAX_CPU_ISA=" << isa_cap() << ": worst error " << worst << " (against the quantised values "
                             << worst_quantised << ") of max " << norm);
  CHECK(worst_quantised <= 1e-5 * norm);
  CHECK(worst <= 0.06 * norm);
}

// The whole model, int8 against f32: the same bounds as the native int8 test
// (model_reference_test), on whatever instruction set oneDNN runs.
TEST_CASE("int8 models agree with f32 on this instruction set: top-1 >= 99%, mean KL <= 0.01", "[int8_isa]") {
  TempDir dir;
  const LogitAgreement agreement = int8_agreement_with_f32(dir.file("m.gguf"));
  INFO("ONEDNN_MAX_CPU_ISA=" << isa_cap() << ": top-1 agreement " << agreement.top1_rate() << ", mean KL "
                             << agreement.mean_kl() << " over " << agreement.rows << " positions");
  CHECK(agreement.rows >= 500);
  CHECK(agreement.top1_rate() >= 0.99);
  CHECK(agreement.mean_kl() <= 0.01);
}

// A layer wider than one conversion chunk (the int8 weights are reordered
// into oneDNN's layout a few MB at a time), with a last chunk that is not
// whole blocks: every output channel lands where the kernel reads it.
TEST_CASE("int8 layers converted in chunks compute every output channel", "[int8_isa]") {
  const int64_t in = 32, out = 131072 + 77, rows = 3;
  std::mt19937 rng(11);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> w(static_cast<size_t>(in * out)), x(static_cast<size_t>(rows * in));
  for (auto& v : w) v = 0.05f * normal(rng);
  for (auto& v : x) v = normal(rng);
  Linear l = Linear::from_f32(w.data(), in, out, nullptr, WeightMode::Int8);
  std::vector<float> y(static_cast<size_t>(rows * out));
  l.forward(x.data(), rows, y.data());
  auto want = quantised_reference(x, w, rows, in, out, int8_activation_levels());
  const auto [worst, norm] = worst_error(want, y);
  INFO("ONEDNN_MAX_CPU_ISA=" << isa_cap() << ": worst error " << worst << " of max " << norm);
  CHECK(worst <= 1e-5 * norm);
}

// A layer's rows read back (what a tied model's embedding lookup uses) are
// its weights as it holds them, in whatever layout oneDNN chose here.
TEST_CASE("linear layers give back each output channel's weights", "[int8_isa]") {
  const int64_t in = 72, out = 200;
  std::mt19937 rng(13);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> w(static_cast<size_t>(in * out));
  for (auto& v : w) v = 0.05f * normal(rng);
  std::vector<int8_t> q(static_cast<size_t>(in));
  std::vector<float> row(static_cast<size_t>(in));
  for (WeightMode mode : {WeightMode::F32, WeightMode::Int8}) {
    Linear l = Linear::from_f32(w.data(), in, out, nullptr, mode);
    size_t wrong = 0;
    for (int64_t n = 0; n < out; ++n) {
      l.weight_row(n, row.data());
      const float* wn = w.data() + n * in;
      const float scale = quantize_row_int8(wn, q.data(), static_cast<size_t>(in));
      for (int64_t k = 0; k < in; ++k)
        wrong += row[k] != (mode == WeightMode::F32 ? wn[k] : scale * static_cast<float>(q[k]));
    }
    INFO((mode == WeightMode::F32 ? "f32" : "int8") << ", ONEDNN_MAX_CPU_ISA=" << isa_cap());
    CHECK(wrong == 0);
    CHECK_THROWS_AS(l.weight_row(out, row.data()), std::out_of_range);
    CHECK_THROWS_AS(l.weight_row(-1, row.data()), std::out_of_range);
  }
}

// Decode's rows (1 to 4) on engine/gemv_int8's kernel where the CPU has VNNI
// and oneDNN chose its VNNI layout: the same integer sums as oneDNN's, so the
// same floats, bias and padded shapes (in and out not whole blocks of 64)
// included, and a row with a NaN gives NaN there only. Capped below VNNI no
// layer may take the kernel.
TEST_CASE("single-row int8 products on the decode kernel equal oneDNN's", "[int8_isa]") {
  std::mt19937 rng(17);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const bool vnni_cpu = __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bw");
  for (auto [in, out] : {std::pair<int64_t, int64_t>{72, 200}, {896, 1152}, {4864, 130}}) {
    std::vector<float> w(static_cast<size_t>(in * out)), bias(static_cast<size_t>(out));
    for (auto& v : w) v = 0.05f * normal(rng);
    for (auto& v : bias) v = normal(rng);
    Linear l = Linear::from_f32(w.data(), in, out, bias.data(), WeightMode::Int8);
    INFO("in " << in << ", out " << out << ", ONEDNN_MAX_CPU_ISA=" << isa_cap());
    if (isa_cap() == "AVX2" || isa_cap() == "AVX512_CORE") CHECK_FALSE(l.uses_gemv());
    if (isa_cap().empty() && vnni_cpu) CHECK(l.uses_gemv());
    for (int64_t rows = 1; rows <= 5; ++rows) {
      std::vector<float> x(static_cast<size_t>(rows * in));
      for (auto& v : x) v = normal(rng) * (rng() % 4 == 0 ? 8.0f : 1.0f);
      if (rows == 3) x[static_cast<size_t>(in + 5)] = std::nanf("");
      std::vector<float> kernel(static_cast<size_t>(rows * out)), onednn(kernel.size());
      set_int8_gemv(false);
      CHECK_FALSE(int8_gemv_active(l));
      l.forward(x.data(), rows, onednn.data());
      set_int8_gemv(true);
      CHECK(int8_gemv_active(l) == l.uses_gemv());
      // However the threads split the layer and whatever it prefetches: one
      // block a chunk, the engine's default, everything in one chunk, none.
      for (GemvSchedule schedule : {GemvSchedule{1, 64, 64}, kDefaultGemvSchedule,
                                    GemvSchedule{int64_t{1} << 30, 1, 1 << 20}, GemvSchedule{2 << 20, 2, 0}}) {
        set_gemv_schedule(schedule);
        std::fill(kernel.begin(), kernel.end(), -1.0f);
        l.forward(x.data(), rows, kernel.data());
        size_t differ = 0, nan = 0;
        for (size_t i = 0; i < kernel.size(); ++i) {
          const bool row_nan = rows == 3 && i / static_cast<size_t>(out) == 1;
          if (row_nan) nan += std::isnan(kernel[i]);
          else differ += !(kernel[i] == onednn[i]);
        }
        INFO("rows " << rows << ", chunks of at most " << schedule.max_bytes << " bytes, " << schedule.per_thread
                     << " a thread, prefetching " << schedule.prefetch_bytes << " bytes ahead");
        CHECK(differ == 0);
        if (rows == 3) CHECK(nan == static_cast<size_t>(out));
      }
      set_gemv_schedule(kDefaultGemvSchedule);
    }
  }
}
