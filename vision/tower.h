// The vision tower of Qwen2.5-VL (and Qwen2-VL, a variant of the same code):
// 14x14 patches -> Conv3d patch embedding -> transformer blocks with 2-D
// rotary positions and window attention -> 2x2 patch merger -> one row of the
// LM's width per merged 28x28 unit, which replaces an <|image_pad|> token's
// embedding in the prompt.
//
//   Qwen2.5-VL: RMSNorm, fused qkv with bias, SwiGLU MLP with bias, attention
//               inside windows of 8x8 patches except at the full-attention
//               blocks (7, 15, 23, 31), merger RMSNorm -> Linear -> GELU -> Linear.
//   Qwen2-VL:   LayerNorm, quick-GELU fc1/fc2 MLP, full attention everywhere,
//               merger LayerNorm -> Linear -> GELU -> Linear.
//
// Read from llama.cpp's mmproj GGUF (clip.projector_type qwen2vl_merger /
// qwen2.5vl_merger) or from a Hugging Face checkpoint's visual.* tensors
// (a directory with config.json, or a .safetensors file). The Linear layers
// run on oneDNN through engine::Linear: int8 weights for all blocks but the
// last, whose activations carry the tower's outliers, which stays in f32 with
// the patch embedding and the merger; or everything in f32.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/linear.h"
#include "vision/preprocess.h"

namespace astfill::vision {

enum class TowerKind { Qwen2VL, Qwen25VL };

struct VisionConfig {
  TowerKind kind = TowerKind::Qwen25VL;
  int64_t hidden = 0;     // block width (1280)
  int64_t heads = 0;      // 16
  int64_t head_dim = 0;   // hidden / heads (80)
  int64_t ffn = 0;        // MLP width (3420; 5120 for Qwen2-VL)
  int64_t depth = 0;      // blocks (32)
  int64_t out_dim = 0;    // the LM's width (2048 for the 3B)
  int64_t patch_size = 14;
  int64_t merge_size = 2;
  int64_t window_size = 112;       // pixels: 112 / 14 = 8x8-patch windows
  std::vector<bool> full_attention;  // per block
  float eps = 1e-6f;
  double rope_theta = 10000.0;
  float mean[3] = {0.48145466f, 0.4578275f, 0.40821073f};
  float std[3] = {0.26862954f, 0.26130258f, 0.27577711f};
};

struct TowerOptions {
  engine::WeightMode weights = engine::WeightMode::Int8;
  // For tests and experiments: windows of this many pixels instead of the
  // file's (0 keeps it), or full attention in every block.
  int64_t window_size = 0;
  bool full_attention_everywhere = false;
};

// The window partition of an image's merged units (2x2 patches), as
// Qwen2.5-VL's get_window_index computes it: `order` lists merged units in
// window order (each window's units row by row, windows row by row), and
// `bounds` the windows' starts in patches (4 per unit), ending with the total.
struct WindowPartition {
  std::vector<int64_t> order;
  std::vector<int64_t> bounds;
};
WindowPartition window_partition(int64_t grid_h, int64_t grid_w, int64_t merge_size, int64_t window_units);

// The 2-D rotary angles of each patch in merge order: [patches][head_dim / 2],
// the first half h * inv_freq, the second w * inv_freq, inv_freq[j] =
// theta^(-4j / head_dim) for j < head_dim / 4. Element i rotates with i + head_dim/2.
std::vector<float> rotary_angles(int64_t grid_h, int64_t grid_w, int64_t merge_size, int64_t head_dim,
                                 double theta);

class VisionTower {
 public:
  // Throws engine::ModelError naming the file and the key or tensor at fault.
  static VisionTower load(const std::string& path, const TowerOptions& options = {});

  VisionTower();
  ~VisionTower();
  VisionTower(VisionTower&&) noexcept;
  VisionTower& operator=(VisionTower&&) noexcept;

  const VisionConfig& config() const { return config_; }
  const std::string& path() const { return path_; }
  // Preprocessing that matches this tower (its patch size, mean and std).
  PreprocessOptions preprocess_options(int64_t max_tokens = 256) const;

  // The merged embeddings of one image: [patch_count / 4][out_dim], in the
  // image's merge order (row-major over 28x28 units). ImageError when the
  // input's grid is not a multiple of the merge size or its rows do not fit.
  std::vector<float> encode(const VisionInput& input) const;

 private:
  struct Weights;
  VisionConfig config_;
  std::string path_;
  std::unique_ptr<Weights> w_;
};

}  // namespace astfill::vision
