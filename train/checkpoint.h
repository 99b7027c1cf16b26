// `astfill tune`'s checkpoint: everything a run needs to continue exactly
// where it stopped (the adapter, AdamW's moments and step, the sample
// stream's generator, the best held-out adapter so far), in one binary file
// written atomically (a temporary file renamed over the old one), so a
// Ctrl-C or a crash mid-write never leaves a torn checkpoint.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "train/lora_model.h"

namespace astfill::train {

struct TrainingState {
  // What the run trains (model, repository, adapter shape, schedule): a
  // checkpoint made with other settings is refused rather than continued.
  std::string fingerprint;
  int64_t step = 0;
  double elapsed_seconds = 0;  // training time so far (time budgets, ETA)
  std::string rng;             // the sample stream's std::mt19937_64, as operator<< writes it
  double held_out_before = std::numeric_limits<double>::quiet_NaN();
  double best_held_out = std::numeric_limits<double>::infinity();
  int64_t best_step = -1;
  Adapter<float> adapter;
  Adapter<float> best;  // the adapter at best_step
  int64_t optimizer_steps = 0;
  std::vector<std::vector<float>> first_moments, second_moments;
};

// Throws std::runtime_error naming the file when it cannot be written.
void save_checkpoint(const std::string& path, const TrainingState& state);
// nullopt when there is no file; throws std::runtime_error naming the file
// and the problem when it is not a whole checkpoint of this format.
std::optional<TrainingState> load_checkpoint(const std::string& path);

}  // namespace astfill::train
