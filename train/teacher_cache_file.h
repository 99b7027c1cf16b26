// The teacher cache's file (train/distill.h's TeacherCache), apart from the
// teacher so that the reader can be fuzzed without a model:
//
//   "ATKC", u32 version, u32 key length, the key, u64 entry count, then per
//   entry u64 sample key, u32 rows, i32 k, rows*k i32 token ids, rows*k f32
//   log-probabilities; last, u64 FNV-1a (index::content_hash) of all before.
//
// Little-endian as the machine writes it; the file never leaves the machine.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "train/lora_model.h"

namespace astfill::train {

using TeacherEntries = std::unordered_map<uint64_t, TeacherTopK>;

// The file's bytes, entries in key order (the same entries always make the
// same file).
std::string write_teacher_cache(const TeacherEntries& entries, const std::string& key);

// The entries of a whole file of this key whose entries all have `top_k`
// columns, ids >= 0 and finite log-probabilities <= 0; nullopt for anything
// else (another format, version or key, a torn or corrupted file), which the
// caller must not trust.
std::optional<TeacherEntries> read_teacher_cache(std::string_view bytes, const std::string& key, int32_t top_k);

}  // namespace astfill::train
