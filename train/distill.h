// Distillation for `astfill tune --teacher MODEL`: the teacher model (any
// model the engine loads that shares the student's tokenizer) run by the
// engine over the same samples as the student, its top-k log-probabilities on
// each sample's target rows, and an on-disk cache of them under --out, so a
// rerun or a resumed run does not run the teacher again.
//
// The cache file's name and header carry a key: the teacher file's identity
// (absolute path, size, modification time), k, and the sample set's
// fingerprint (repository, seed, sample sizes, held-out share). Its entries
// are addressed by a hash of the sample's tokens and target span, and the
// whole file by a checksum: a file of another key, a torn or corrupted one,
// or one of another format is ignored and rebuilt, never trusted.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "engine/model.h"
#include "train/lora_model.h"

namespace astfill::train {

// Throws std::invalid_argument naming the difference when the teacher's
// tokenizer is not the student's: another vocabulary size, or a token whose
// text differs (a spread of ids is compared, the special tokens included).
void check_same_tokenizer(const engine::Tokenizer& teacher, const engine::Tokenizer& student,
                          const std::string& teacher_path);

class Teacher {
 public:
  // Loads the teacher (throws engine::ModelError naming the file) and checks
  // its tokenizer against the student's (std::invalid_argument).
  Teacher(const std::string& path, engine::WeightMode weights, const FrozenModel& student, int32_t top_k);

  int32_t top_k() const { return k_; }
  const std::string& path() const { return path_; }
  // "path (N bytes, mtime M)": what the cache is keyed by.
  const std::string& identity() const { return identity_; }
  // Runs the teacher over the sample and returns its top-k on the target
  // rows (ids below the student's vocabulary size only: the padding rows of
  // a larger embedding are no tokens).
  TeacherTopK run(const Sample& sample);
  // How many samples the teacher has run on.
  uint64_t runs() const { return runs_; }

 private:
  std::string path_, identity_;
  std::unique_ptr<engine::Model> model_;
  int32_t k_ = 32;
  int64_t vocab_ = 0;  // the student's logits
  uint64_t runs_ = 0;
};

// The teacher's top-k per sample, from the cache file or from the teacher.
class TeacherCache {
 public:
  // `directory`/teacher-<hash of the key>.bin; loads it when it is whole and
  // of this key (else starts empty: rebuilt() tells).
  TeacherCache(Teacher& teacher, const std::string& directory, const std::string& sample_set);

  // The sample's top-k: cached, or run now (and kept for save()).
  const TeacherTopK& get(const Sample& sample);
  // Writes the file (atomically) when something was added since the last
  // save. Throws std::runtime_error naming the file when it cannot.
  void save();

  const std::string& path() const { return path_; }
  size_t size() const { return entries_.size(); }
  // The file was there but not trusted (another key, torn, corrupted).
  bool rebuilt() const { return rebuilt_; }

  static uint64_t sample_key(const Sample& sample);

 private:
  Teacher& teacher_;
  std::string path_, key_;
  std::unordered_map<uint64_t, TeacherTopK> entries_;
  bool dirty_ = false, rebuilt_ = false;
};

}  // namespace astfill::train
