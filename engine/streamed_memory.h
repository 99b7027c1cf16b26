// Memory for what decode streams from DRAM every token (the int8 weights),
// on 2 MB pages where the kernel gives them.
//
// Linux hands out transparent huge pages only to memory marked for them when
// /sys/kernel/mm/transparent_hugepage/enabled is "madvise" (Debian's
// default). On 4 KB pages a sequential read takes a TLB miss every 4 KB and
// the CPU's stream prefetcher starts over at each page boundary: on this
// project's Zen 4 machine one thread read int8 weights at 19 GB/s on 4 KB
// pages and 34 GB/s on 2 MB pages (two threads: 28-30 vs 36-37 GB/s).
//
// Allocations from 256 KB to 16 MB share 64 MB slabs (a layer's q/k/v, o and
// MLP weights are 1-9 MB each for a 0.5B model: rounding each to 2 MB would
// waste 10% of the model); a slab is unmapped when the last allocation in it
// is freed, so unloading a model returns its memory. A slab never reuses a
// freed block's bytes, so it is for memory that lives as long as its model;
// smaller allocations come from the heap, larger ones have mappings of their
// own. Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace astfill::engine {

// `bytes` of zeroed memory, 4096-byte aligned, kept alive by the returned
// pointer (and its copies). Throws std::bad_alloc when the system has none.
std::shared_ptr<uint8_t> allocate_streamed(size_t bytes);

// The same, in a mapping of its own (rounded up to 2 MB), for a buffer that
// is replaced as it grows (the KV cache): in a shared slab, a freed buffer's
// bytes would stay mapped until everything else in the slab was freed.
std::shared_ptr<uint8_t> allocate_streamed_alone(size_t bytes);

// Bytes of this process's anonymous memory on huge pages now
// (/proc/self/smaps_rollup's AnonHugePages), or -1 where the kernel does not
// say. For benchmarks that report it.
int64_t process_huge_page_bytes();

}  // namespace astfill::engine
