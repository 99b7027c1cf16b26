#include "engine/streamed_memory.h"

#include <sys/mman.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <new>
#include <string>

namespace astfill::engine {
namespace {

constexpr size_t kHuge = size_t{2} << 20;
constexpr size_t kSlab = size_t{64} << 20;
constexpr size_t kAlign = 4096;
constexpr size_t kSmall = size_t{256} << 10;

// Under AddressSanitizer everything comes from the heap, where it checks
// every access: mappings of our own would hide an overrun.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kHeapOnly = true;
#else
constexpr bool kHeapOnly = false;
#endif

size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }

std::shared_ptr<uint8_t> heap_block(size_t bytes) {
  void* p = std::aligned_alloc(kAlign, round_up(bytes, kAlign));
  if (!p) throw std::bad_alloc();
  std::memset(p, 0, bytes);
  return std::shared_ptr<uint8_t>(static_cast<uint8_t*>(p), [](uint8_t* q) { std::free(q); });
}

// One anonymous mapping, 2 MB aligned (so its huge pages line up with the
// kernel's), marked for huge pages.
class Mapping {
 public:
  explicit Mapping(size_t bytes) : size_(round_up(bytes, kHuge)) {
    // Over-map by one huge page and trim, since mmap promises only 4 KB
    // alignment.
    const size_t span = size_ + kHuge;
    void* p = ::mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    const auto raw = reinterpret_cast<uintptr_t>(p);
    const uintptr_t begin = round_up(raw, kHuge);
    if (begin > raw) ::munmap(p, begin - raw);
    const uintptr_t end = begin + size_;
    if (raw + span > end) ::munmap(reinterpret_cast<void*>(end), raw + span - end);
    data_ = reinterpret_cast<uint8_t*>(begin);
    // Advice only: where huge pages are off ("never") or the kernel lacks
    // them, this fails and the memory stays on small pages.
    (void)::madvise(data_, size_, MADV_HUGEPAGE);
  }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping() { ::munmap(data_, size_); }

  uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  size_t size_;
  uint8_t* data_ = nullptr;
};

struct SlabAllocator {
  std::mutex mu;
  std::weak_ptr<Mapping> open;  // weak: a slab no allocation holds is unmapped
  size_t used = 0;

  std::shared_ptr<uint8_t> allocate(size_t bytes) {
    std::lock_guard lock(mu);
    std::shared_ptr<Mapping> slab = open.lock();
    if (!slab || slab->size() - used < bytes) {
      slab = std::make_shared<Mapping>(kSlab);
      open = slab;
      used = 0;
    }
    uint8_t* at = slab->data() + used;
    used += bytes;
    return std::shared_ptr<uint8_t>(std::move(slab), at);
  }
};

}  // namespace

std::shared_ptr<uint8_t> allocate_streamed_alone(size_t bytes) {
  if (kHeapOnly) return heap_block(bytes == 0 ? 1 : bytes);
  auto own = std::make_shared<Mapping>(bytes == 0 ? 1 : bytes);
  uint8_t* at = own->data();
  return std::shared_ptr<uint8_t>(std::move(own), at);
}

std::shared_ptr<uint8_t> allocate_streamed(size_t bytes) {
  bytes = round_up(bytes == 0 ? 1 : bytes, kAlign);
  // A few pages: the TLB covers them on any page size, and a slab would
  // keep short-lived ones (a LoRA stack's factors) mapped.
  if (bytes < kSmall || kHeapOnly) return heap_block(bytes);
  if (bytes > kSlab / 4) return allocate_streamed_alone(bytes);
  static SlabAllocator slabs;
  return slabs.allocate(bytes);
}

int64_t process_huge_page_bytes() {
  std::ifstream in("/proc/self/smaps_rollup");
  std::string key;
  int64_t kb = 0;
  while (in >> key) {
    if (key == "AnonHugePages:" && in >> kb) return kb * 1024;
    in.ignore(1 << 12, '\n');
  }
  return -1;
}

}  // namespace astfill::engine
