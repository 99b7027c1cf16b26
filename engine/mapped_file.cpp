#include "engine/mapped_file.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <utility>

#include "engine/errors.h"

namespace astfill::engine {

namespace {

// The maps a SIGBUS may hit. The handler only reads these atomics (lock-free,
// so async-signal-safe); a map registers before anything reads it and
// unregisters before it is unmapped.
struct Slot {
  std::atomic<uintptr_t> begin{0}, end{0};
  std::atomic<bool> faulted{false};
};
constexpr int kSlots = 256;
Slot g_slots[kSlots];
struct sigaction g_previous {};

void on_sigbus(int sig, siginfo_t* info, void* context) {
  const auto addr = reinterpret_cast<uintptr_t>(info->si_addr);
  for (Slot& s : g_slots) {
    const uintptr_t begin = s.begin.load(std::memory_order_acquire);
    if (begin == 0 || addr < begin || addr >= s.end.load(std::memory_order_acquire)) continue;
    // The page past the file's new end: read zeros from now on, and let the
    // reader find out through check_intact().
    const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
    void* at = reinterpret_cast<void*>(addr / page * page);
    if (::mmap(at, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED) break;
    s.faulted.store(true, std::memory_order_release);
    return;
  }
  // Not ours: what would have happened without us.
  if ((g_previous.sa_flags & SA_SIGINFO) && g_previous.sa_sigaction) {
    g_previous.sa_sigaction(sig, info, context);
    return;
  }
  if (g_previous.sa_handler != SIG_DFL && g_previous.sa_handler != SIG_IGN && g_previous.sa_handler) {
    g_previous.sa_handler(sig);
    return;
  }
  // Default action: put it back; returning re-runs the faulting access.
  ::sigaction(SIGBUS, &g_previous, nullptr);
}

void install_handler() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa {};
    sa.sa_sigaction = on_sigbus;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGBUS, &sa, &g_previous);
  });
}

int register_map(const uint8_t* data, size_t size) {
  install_handler();
  const auto begin = reinterpret_cast<uintptr_t>(data);
  for (int i = 0; i < kSlots; ++i) {
    uintptr_t expected = 0;
    // Claim the slot with a placeholder so no other thread takes it, then
    // publish the range (end before begin: the handler reads begin first).
    if (g_slots[i].begin.compare_exchange_strong(expected, 1, std::memory_order_acq_rel)) {
      g_slots[i].faulted.store(false, std::memory_order_relaxed);
      g_slots[i].end.store(begin + size, std::memory_order_release);
      g_slots[i].begin.store(begin, std::memory_order_release);
      return i;
    }
  }
  return -1;  // more maps at once than slots: this one is unprotected
}

void unregister_map(int slot) {
  if (slot < 0) return;
  g_slots[slot].end.store(0, std::memory_order_release);
  g_slots[slot].begin.store(0, std::memory_order_release);
}

}  // namespace

MappedFile::MappedFile(const std::string& path) : path_(path) {
  // Non-blocking, so that a FIFO (or a device) put where a model belongs is
  // refused below instead of waiting forever for a writer.
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) throw ModelError(path + ": cannot open: " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    throw ModelError(path + ": cannot stat: " + std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw ModelError(path + ": not a regular file");
  }
  size_ = static_cast<size_t>(st.st_size);
  mtime_ = st.st_mtim;
  if (size_ > 0) {
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      int err = errno;
      ::close(fd);
      throw ModelError(path + ": cannot map " + std::to_string(size_) + " bytes: " + std::strerror(err));
    }
    data_ = static_cast<const uint8_t*>(p);
    slot_ = register_map(data_, size_);
  }
  // Kept open (one descriptor per map) so check_intact() asks the file that is
  // mapped, not whatever now has its name.
  fd_ = fd;
}

void MappedFile::check_intact() const {
  if (fd_ < 0) return;
  const bool faulted = slot_ >= 0 && g_slots[slot_].faulted.load(std::memory_order_acquire);
  struct stat st {};
  const bool stat_ok = ::fstat(fd_, &st) == 0;
  const auto now = static_cast<size_t>(st.st_size);
  if (faulted || (stat_ok && now < size_))
    throw ModelError(path_ + ": the file was truncated while it was being read (it had " + std::to_string(size_) +
                     " bytes" + (stat_ok ? ", now " + std::to_string(now) : std::string()) +
                     "); nothing read from it is used");
  if (!stat_ok) throw ModelError(path_ + ": cannot stat: " + std::strerror(errno));
  if (now != size_)
    throw ModelError(path_ + ": the file changed size while it was being read (" + std::to_string(size_) + " -> " +
                     std::to_string(now) + " bytes); nothing read from it is used");
  if (st.st_mtim.tv_sec != mtime_.tv_sec || st.st_mtim.tv_nsec != mtime_.tv_nsec)
    throw ModelError(path_ + ": the file was modified while it was being read; nothing read from it is used");
}

void MappedFile::release() noexcept {
  unregister_map(std::exchange(slot_, -1));
  if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
  if (fd_ >= 0) ::close(fd_);
  data_ = nullptr;
  size_ = 0;
  fd_ = -1;
}

MappedFile::~MappedFile() { release(); }

MappedFile::MappedFile(MappedFile&& other) noexcept
    : path_(std::move(other.path_)), data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)), fd_(std::exchange(other.fd_, -1)),
      slot_(std::exchange(other.slot_, -1)), mtime_(other.mtime_) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    release();
    path_ = std::move(other.path_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    fd_ = std::exchange(other.fd_, -1);
    slot_ = std::exchange(other.slot_, -1);
    mtime_ = other.mtime_;
  }
  return *this;
}

}  // namespace astfill::engine
