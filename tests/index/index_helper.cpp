// The child process of the crash test: indexes a workspace with the toy
// extractor and prints "committed N" after every commit. Given a stop count,
// it blocks for good inside the commit callback once N reaches it (after
// printing "stopped"), so that the parent kills it in the middle of indexing,
// with parsed results still waiting to be written.
//
//   astfill_index_helper ROOT DATABASE BATCH_FILES STOP_AFTER
#include <cstdio>
#include <cstdlib>
#include <unistd.h>

#include "index/index.h"
#include "support/log.h"
#include "toy_project.h"

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s ROOT DATABASE BATCH_FILES STOP_AFTER\n", argv[0]);
    return 2;
  }
  astfill::log::set_level(astfill::log::Level::Off);
  size_t stop_after = std::strtoul(argv[4], nullptr, 10);
  astfill::index::IndexOptions options;
  options.root = argv[1];
  options.database = argv[2];
  options.max_batch_files = std::strtoul(argv[3], nullptr, 10);
  options.parse_threads = 2;
  options.background_nice = 0;
  options.on_commit = [stop_after](size_t committed) {
    std::printf("committed %zu\n", committed);
    std::fflush(stdout);
    if (stop_after == 0 || committed < stop_after) return;
    std::printf("stopped\n");
    std::fflush(stdout);
    for (;;) ::pause();
  };
  astfill::index::Index index(options, astfill::testing::toy_extractor(), astfill::testing::toy_language);
  index.sync_with_disk();
  index.wait_until_idle();
  std::printf("done\n");
  std::fflush(stdout);
  return 0;
}
