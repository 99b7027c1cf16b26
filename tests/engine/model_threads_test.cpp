// LoadOptions::threads belongs to the model: loading changes no thread's
// setting, and each evaluate runs on the model's count on whichever thread
// calls it, restoring that thread's own setting afterwards.
#include <catch2/catch.hpp>
#include <thread>

#include "engine/linear.h"
#include "engine/model.h"
#include "temp_dir.h"
#include "tests/fixtures/random_model.h"

using namespace astfill::engine;
using astfill::testing::TempDir;

namespace {
// The thread count inside an evaluate, read from the tensor hook (which runs
// on the evaluating thread between kernels).
int threads_during_evaluate(Session& s) {
  int seen = -1;
  s.set_tensor_hook([&](const TensorDump&) { seen = engine_threads(); });
  s.evaluate({{1, 2, 3}, {}, {}});
  s.set_tensor_hook({});
  return seen;
}
}  // namespace

TEST_CASE("loading leaves the thread count alone, evaluate runs on the model's", "[model][threads]") {
  TempDir dir;
  write_random_model(dir.file("m.gguf"), tiny_spec("qwen3"));
  const int before = engine_threads();
  const int want = before + 1;  // differs from the default whatever the core count
  auto model = Model::open(dir.file("m.gguf"), {WeightMode::Int8, want});
  CHECK(engine_threads() == before);
  CHECK(model->threads() == want);

  Session s(*model);
  CHECK(threads_during_evaluate(s) == want);
  CHECK(engine_threads() == before);

  // Another thread: the model's count there too, and that thread's own
  // setting is back afterwards.
  int other_inside = -1, other_after = -1, other_before = -1;
  std::thread t([&] {
    other_before = engine_threads();
    Session mine(*model);
    other_inside = threads_during_evaluate(mine);
    other_after = engine_threads();
  });
  t.join();
  CHECK(other_inside == want);
  CHECK(other_after == other_before);

  // threads = 0: the calling thread's own setting.
  auto plain = Model::open(dir.file("m.gguf"), {WeightMode::Int8, 0});
  CHECK(plain->threads() == before);
  Session p(*plain);
  CHECK(threads_during_evaluate(p) == before);
}
