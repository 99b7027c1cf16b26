#include "train/distill.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <numeric>
#include <sstream>
#include <stdexcept>

#include "index/files.h"
#include "train/teacher_cache_file.h"

namespace astfill::train {

namespace {

std::string printable(const std::string& token) {
  std::string out;
  for (unsigned char c : token) {
    if (c >= 0x20 && c != 0x7f) out += static_cast<char>(c);
    else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

std::string file_identity(const std::string& path) {
  std::error_code ec;
  const auto abs = std::filesystem::absolute(path, ec).lexically_normal().string();
  const auto size = std::filesystem::file_size(path, ec);
  const uint64_t bytes = ec ? 0 : size;
  const auto mtime = std::filesystem::last_write_time(path, ec);
  const long long stamp = ec ? 0 : static_cast<long long>(mtime.time_since_epoch().count());
  return abs + " (" + std::to_string(bytes) + " bytes, mtime " + std::to_string(stamp) + ")";
}

template <class V>
void put(std::string& out, V v) {
  char buf[sizeof(V)];
  std::memcpy(buf, &v, sizeof(V));
  out.append(buf, sizeof(V));
}

}  // namespace

void check_same_tokenizer(const engine::Tokenizer& teacher, const engine::Tokenizer& student,
                          const std::string& teacher_path) {
  if (teacher.vocab_size() != student.vocab_size())
    throw std::invalid_argument("the teacher '" + teacher_path + "' has another tokenizer: " +
                                std::to_string(teacher.vocab_size()) + " tokens, the student " +
                                std::to_string(student.vocab_size()) + " (distillation needs the same vocabulary)");
  // Every token's text: cheap next to loading a model, and a tokenizer that
  // differs in one merge-produced token would give the KL wrong pairs.
  for (size_t i = 0; i < student.vocab_size(); ++i) {
    const int32_t id = static_cast<int32_t>(i);
    if (teacher.token_text(id) != student.token_text(id) || teacher.is_special(id) != student.is_special(id))
      throw std::invalid_argument("the teacher '" + teacher_path + "' has another tokenizer: token " +
                                  std::to_string(id) + " is '" + printable(teacher.token_text(id)) +
                                  "' in the teacher, '" + printable(student.token_text(id)) +
                                  "' in the student (distillation needs the same vocabulary)");
  }
}

Teacher::Teacher(const std::string& path, engine::WeightMode weights, const FrozenModel& student, int32_t top_k)
    : path_(path), identity_(file_identity(path)), k_(top_k), vocab_(student.hparams().vocab_size) {
  engine::LoadOptions lo;
  lo.weights = weights;
  model_ = engine::Model::open(path, lo);
  check_same_tokenizer(model_->tokenizer(), student.tokenizer(), path);
  const int64_t shared = std::min<int64_t>(vocab_, model_->hparams().vocab_size);
  if (k_ < 1 || k_ > shared)
    throw std::invalid_argument("--teacher-top-k must be between 1 and the vocabulary size (" + std::to_string(shared) + ")");
}

TeacherTopK Teacher::run(const Sample& s) {
  if (s.target_begin < 1 || s.target_end > s.tokens.size() || s.target_begin >= s.target_end)
    throw std::invalid_argument("a sample's targets must be a non-empty span after its first token");
  const size_t first = s.target_begin - 1, rows = s.target_end - s.target_begin;
  const size_t n = s.target_end - 1;  // the last target row's input is tokens[n - 1]
  engine::Session session(*model_, n, engine::KvType::F32);
  engine::Session::Batch batch;
  batch.tokens.assign(s.tokens.begin(), s.tokens.begin() + static_cast<std::ptrdiff_t>(n));
  batch.logits.assign(n, false);
  for (size_t i = first; i < n; ++i) batch.logits[i] = true;
  const std::vector<float> logits = session.evaluate(batch);
  const int64_t tv = model_->hparams().vocab_size, shared = std::min<int64_t>(vocab_, tv);
  if (logits.size() != rows * static_cast<size_t>(tv))
    throw std::runtime_error("the teacher returned " + std::to_string(logits.size()) + " logits for " +
                             std::to_string(rows) + " rows");
  ++runs_;
  TeacherTopK out;
  out.k = k_;
  out.ids.resize(rows * static_cast<size_t>(k_));
  out.logprobs.resize(out.ids.size());
  std::vector<int32_t> order(static_cast<size_t>(shared));
  for (size_t r = 0; r < rows; ++r) {
    const float* z = logits.data() + r * static_cast<size_t>(tv);
    float mx = z[0];
    for (int64_t j = 1; j < tv; ++j) mx = std::max(mx, z[j]);
    double sum = 0;
    for (int64_t j = 0; j < tv; ++j) sum += std::exp(double(z[j]) - double(mx));
    const double lse = double(mx) + std::log(sum);
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + k_, order.end(), [z](int32_t a, int32_t b) {
      return z[a] > z[b] || (z[a] == z[b] && a < b);
    });
    for (int32_t i = 0; i < k_; ++i) {
      const int32_t id = order[static_cast<size_t>(i)];
      out.ids[r * static_cast<size_t>(k_) + static_cast<size_t>(i)] = id;
      out.logprobs[r * static_cast<size_t>(k_) + static_cast<size_t>(i)] = static_cast<float>(double(z[id]) - lse);
    }
  }
  return out;
}

uint64_t TeacherCache::sample_key(const Sample& s) {
  std::string bytes;
  put<uint64_t>(bytes, s.target_begin);
  put<uint64_t>(bytes, s.target_end);
  bytes.append(reinterpret_cast<const char*>(s.tokens.data()), s.tokens.size() * sizeof(int32_t));
  return index::content_hash(bytes);
}

TeacherCache::TeacherCache(Teacher& teacher, const std::string& directory, const std::string& sample_set)
    : teacher_(teacher) {
  key_ = "teacher=" + teacher.identity() + "\nk=" + std::to_string(teacher.top_k()) + "\nsamples=" + sample_set + "\n";
  char name[40];
  std::snprintf(name, sizeof name, "teacher-%016llx.bin", static_cast<unsigned long long>(index::content_hash(key_)));
  path_ = (std::filesystem::path(directory) / name).string();
  std::ifstream in(path_, std::ios::binary);
  if (!in) return;
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Anything wrong with it: the file is ignored (and rewritten by save()).
  if (auto entries = read_teacher_cache(bytes, key_, teacher.top_k())) {
    entries_ = std::move(*entries);
  } else {
    rebuilt_ = true;
    dirty_ = true;
  }
}

const TeacherTopK& TeacherCache::get(const Sample& sample) {
  const uint64_t key = sample_key(sample);
  auto it = entries_.find(key);
  if (it != entries_.end() && it->second.rows() == sample.target_end - sample.target_begin) return it->second;
  TeacherTopK t = teacher_.run(sample);
  dirty_ = true;
  return entries_.insert_or_assign(key, std::move(t)).first->second;
}

void TeacherCache::save() {
  if (!dirty_) return;
  const std::string bytes = write_teacher_cache(entries_, key_);
  const std::string tmp = path_ + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) throw std::runtime_error("cannot write the teacher's cache '" + tmp + "'");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path_, ec);
  if (ec) throw std::runtime_error("cannot write the teacher's cache '" + path_ + "': " + ec.message());
  dirty_ = false;
}

}  // namespace astfill::train
