#include "train/checkpoint.h"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "support/files.h"

namespace astfill::train {

namespace {

constexpr char kMagic[8] = {'A', 'F', 'T', 'U', 'N', 'E', '0', '1'};

class Writer {
 public:
  void u64(uint64_t v) { raw(&v, sizeof v); }
  void i64(int64_t v) { raw(&v, sizeof v); }
  void f64(double v) { raw(&v, sizeof v); }
  void str(const std::string& s) {
    u64(s.size());
    raw(s.data(), s.size());
  }
  void floats(const std::vector<float>& v) {
    u64(v.size());
    raw(v.data(), v.size() * sizeof(float));
  }
  void adapter(const Adapter<float>& a) {
    i64(a.rank);
    f64(a.alpha);
    u64(a.pairs.size());
    for (const auto& p : a.pairs) {
      u64(p.layer);
      // The expert (+1) in the high half: 0 for a non-expert pair, so that
      // checkpoints of dense models read as before.
      u64(static_cast<uint64_t>(p.target) | (static_cast<uint64_t>(p.expert + 1) << 32));
      i64(p.in);
      i64(p.out);
      floats(p.a);
      floats(p.b);
    }
  }
  void raw(const void* p, size_t n) { bytes_.append(static_cast<const char*>(p), n); }
  const std::string& bytes() const { return bytes_; }

 private:
  std::string bytes_;
};

class Reader {
 public:
  Reader(const std::string& bytes, const std::string& path) : b_(bytes), path_(path) {}
  uint64_t u64() { return pod<uint64_t>(); }
  int64_t i64() { return pod<int64_t>(); }
  double f64() { return pod<double>(); }
  std::string str() {
    const uint64_t n = count(1);
    std::string s = b_.substr(at_, n);
    at_ += n;
    return s;
  }
  std::vector<float> floats() {
    const uint64_t n = count(sizeof(float));
    std::vector<float> v(n);
    if (n) std::memcpy(v.data(), b_.data() + at_, n * sizeof(float));
    at_ += n * sizeof(float);
    return v;
  }
  Adapter<float> adapter() {
    Adapter<float> a;
    a.rank = i64();
    a.alpha = f64();
    const uint64_t pairs = count(1);
    for (uint64_t i = 0; i < pairs; ++i) {
      LoraPair<float> p;
      p.layer = static_cast<uint32_t>(u64());
      const uint64_t field = u64(), target = field & 0xffffffffu, expert = field >> 32;
      if (target > static_cast<uint64_t>(Target::Down)) fail("an unknown adapter target");
      if (expert > (uint64_t{1} << 20)) fail("an expert index beyond any model's");
      p.target = static_cast<Target>(target);
      p.expert = static_cast<int32_t>(expert) - 1;
      p.in = i64();
      p.out = i64();
      p.a = floats();
      p.b = floats();
      if (a.rank <= 0 || p.in <= 0 || p.out <= 0 || p.a.size() != static_cast<size_t>(a.rank * p.in) ||
          p.b.size() != static_cast<size_t>(p.out * a.rank))
        fail("an adapter pair whose sizes disagree with its shape");
      a.pairs.push_back(std::move(p));
    }
    return a;
  }
  void skip(size_t n) {
    if (b_.size() - at_ < n) fail("it ends early");
    at_ += n;
  }
  void expect_end() const {
    if (at_ != b_.size()) fail("bytes after the end");
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error("checkpoint '" + path_ + "' is damaged or not a checkpoint of this version: " + what);
  }

 private:
  template <class T>
  T pod() {
    if (b_.size() - at_ < sizeof(T)) fail("it ends early");
    T v;
    std::memcpy(&v, b_.data() + at_, sizeof(T));
    at_ += sizeof(T);
    return v;
  }
  // A count of elements of `size` bytes that must fit in what is left.
  uint64_t count(size_t size) {
    const uint64_t n = u64();
    if (n > (b_.size() - at_) / size) fail("a length past the end of the file");
    return n;
  }
  const std::string& b_;
  std::string path_;
  size_t at_ = 0;
};

}  // namespace

void save_checkpoint(const std::string& path, const TrainingState& s) {
  Writer w;
  w.raw(kMagic, sizeof kMagic);
  w.str(s.fingerprint);
  w.i64(s.step);
  w.f64(s.elapsed_seconds);
  w.str(s.rng);
  w.f64(s.held_out_before);
  w.f64(s.best_held_out);
  w.i64(s.best_step);
  w.adapter(s.adapter);
  w.adapter(s.best);
  w.i64(s.optimizer_steps);
  w.u64(s.first_moments.size());
  for (size_t i = 0; i < s.first_moments.size(); ++i) {
    w.floats(s.first_moments[i]);
    w.floats(s.second_moments[i]);
  }
  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  bool ok = f && std::fwrite(w.bytes().data(), 1, w.bytes().size(), f) == w.bytes().size();
  if (f) ok = std::fclose(f) == 0 && ok;
  std::error_code ec;
  if (ok) std::filesystem::rename(tmp, path, ec);
  if (!ok || ec) {
    std::filesystem::remove(tmp, ec);
    throw std::runtime_error("cannot write checkpoint '" + path + "'");
  }
}

std::optional<TrainingState> load_checkpoint(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::nullopt;
  const support::FileContent content = support::read_file(path, support::kNoSizeLimit);
  if (!content.ok()) throw std::runtime_error("cannot read checkpoint '" + path + "': " + content.error);
  Reader r(content.text, path);
  if (content.text.size() < sizeof kMagic || std::memcmp(content.text.data(), kMagic, sizeof kMagic) != 0)
    r.fail("no checkpoint header");
  r.skip(sizeof kMagic);
  TrainingState s;
  s.fingerprint = r.str();
  s.step = r.i64();
  s.elapsed_seconds = r.f64();
  s.rng = r.str();
  s.held_out_before = r.f64();
  s.best_held_out = r.f64();
  s.best_step = r.i64();
  s.adapter = r.adapter();
  s.best = r.adapter();
  s.optimizer_steps = r.i64();
  const uint64_t moments = r.u64();
  if (moments != s.adapter.pairs.size() * 2) r.fail("optimizer moments that do not match the adapter");
  for (uint64_t i = 0; i < moments; ++i) {
    s.first_moments.push_back(r.floats());
    s.second_moments.push_back(r.floats());
    const auto& p = s.adapter.pairs[i / 2];
    const size_t size = (i % 2 ? p.b : p.a).size();
    if (s.first_moments.back().size() != size || s.second_moments.back().size() != size)
      r.fail("optimizer moments that do not match the adapter");
  }
  r.expect_end();
  return s;
}

}  // namespace astfill::train
