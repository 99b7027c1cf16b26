// `astfill tune`'s run: training files and held-out files from a repository,
// a LoRA adapter trained on FIM samples of the training files, evaluated on
// a fixed set of samples of the held-out files, checkpointed on request (and
// at the end), resumed from its checkpoint, and written out at its best
// held-out loss as a PEFT directory and/or a GGUF adapter.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "engine/linear.h"
#include "train/lora_model.h"
#include "train/samples.h"

namespace astfill::train {

struct TuneOptions {
  std::filesystem::path root;
  std::string model_path;
  std::string out_dir;
  int64_t rank = 16;
  double alpha = 32;
  std::vector<Target> targets = {Target::Q, Target::K, Target::V, Target::O};
  int64_t steps = 0;   // exactly one of steps and hours
  // Samples per step. A step's loss is the mean over all its target tokens
  // (each sample weighted by its number of targets), so a short middle's end
  // token counts as one token, not as a large share of a sample's mean.
  int64_t batch = 8;
  double hours = 0;
  int threads = 0;     // 0: the engine's default
  double learning_rate = 1e-3;  // peak; LoRA's B starts at 0 and the runs are short
  double warmup_share = 0.05;  // of the steps (or of the time)
  double clip = 1.0;           // global gradient norm; 0: none
  double weight_decay = 0.0;
  int64_t eval_every = 50;     // steps between held-out evaluations (and at the end)
  size_t eval_samples = 32;
  uint64_t seed = 1;
  SampleOptions samples;
  engine::WeightMode weights = engine::WeightMode::Int8;
  bool write_peft = true, write_gguf = false;
  // Distillation (train/distill.h): a teacher model sharing the tokenizer;
  // the loss is (1 - distill_weight) CE + distill_weight T^2 KL to its top-k.
  std::string teacher_path;  // empty: none
  double distill_weight = 0.5;
  double temperature = 1.0;
  int32_t teacher_top_k = 32;
};

struct TuneProgress {
  int64_t step = 0;
  int64_t total_steps = 0;      // with a time budget: the estimate so far
  double loss = 0;              // the latest step's (a running mean over the last steps)
  double held_out = 0;          // the latest held-out loss
  double tokens_per_second = 0; // trained tokens (forward and backward)
  double eta_seconds = 0;
  bool evaluated = false;       // this report follows a held-out evaluation
  bool distilling = false;      // with a teacher: held_out is the mixed loss, held_out_kl its KL
  double held_out_kl = 0;
};

struct TuneResult {
  int64_t step = 0;
  bool interrupted = false;  // stopped early: the checkpoint holds the state, nothing else was written
  bool resumed = false;
  size_t train_files = 0, held_out_files = 0;
  double held_out_before = 0, held_out_best = 0;  // per target token of the held-out samples
  int64_t best_step = 0;
  double tokens_per_second = 0;
  // Samples cut in this run (training, held-out, for the teacher; cuts too
  // long for a sample included) and the time that took, the index's part
  // included; the index of the repository for their cross-file context (none
  // with SampleOptions::cross_file_tokens 0): its files and the time opening
  // and syncing it took.
  uint64_t samples_made = 0;
  uint64_t samples_with_context = 0;  // of those, samples whose prompt shows another file
  double sample_seconds = 0;
  size_t indexed_files = 0;
  double index_seconds = 0;
  std::string checkpoint_path, peft_dir, gguf_path;
  // OUT/held_out_files.txt: the held-out files' paths (relative to the root,
  // sorted, one a line), for evaluations that must not see training files.
  std::string held_out_list_path;
  // With a teacher: the held-out loss above is the mixed loss; here its
  // parts for the base model (before) and the written adapter (after), the
  // samples the teacher ran on in this run (the others came from its cache)
  // and the cache file.
  bool distilled = false;
  double kl_before = 0, kl_after = 0, cross_entropy_before = 0, cross_entropy_after = 0;
  uint64_t teacher_runs = 0;
  bool teacher_cache_rebuilt = false;
  std::string teacher_cache_path;
};

// Runs (or resumes) training. `stop`, when it becomes true, ends the run
// after the current step with a checkpoint. Throws std::invalid_argument for
// bad options, std::runtime_error (engine::ModelError for the model) naming
// the file for what cannot be read or written.
TuneResult tune(const TuneOptions& options, const std::function<void(const TuneProgress&)>& progress,
                const std::atomic<bool>* stop = nullptr);

// The adapter in engine/lora.h's form, ready to write. `expert_count`: the
// model's experts per MoE layer (a GGUF adapter stacks expert pairs that deep).
engine::LoraAdapter to_lora_adapter(const Adapter<float>& adapter, const std::string& architecture,
                                    uint32_t expert_count = 0);

// An adapter read by engine/lora.h in the trainer's form, to measure it
// (FrozenModel::loss, logits). Throws std::invalid_argument for one the
// trainer cannot hold: pairs of different ranks or alphas, rsLoRA, widths
// other than the model's, expert pairs the model has no experts for (or
// dense MLP pairs on a MoE layer).
Adapter<float> from_lora_adapter(const engine::LoraAdapter& adapter, const FrozenModel& model);

// The mean loss of the adapter over the target tokens of all the samples
// (a sample weighs as many targets as it has).
double mean_loss(const FrozenModel& model, const Adapter<float>& adapter, const std::vector<Sample>& samples);

}  // namespace astfill::train
