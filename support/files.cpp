#include "support/files.h"

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace astfill::support {

namespace {

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// strerror's text in the style of our messages ("no such file or directory").
std::string reason(int code) {
  std::string text = std::strerror(code);
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

}  // namespace

FileContent read_file(const std::filesystem::path& path, uint64_t max_bytes) {
  FileContent out;
  auto fail = [&](int code, std::string why) {
    out.error_code = code;
    out.error = std::move(why);
    out.text.clear();
    out.size = 0;
    return out;
  };
  auto too_large = [&] { return fail(EFBIG, "larger than " + std::to_string(max_bytes) + " bytes"); };
  Fd f{::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC)};
  if (f.fd < 0) return fail(errno, reason(errno));
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) return fail(errno, reason(errno));
  if (S_ISDIR(st.st_mode)) return fail(EINVAL, "a directory, not a file");
  if (!S_ISREG(st.st_mode)) return fail(EINVAL, "not a regular file");
  if (static_cast<uint64_t>(st.st_size) > max_bytes) return too_large();
  out.size = static_cast<uint64_t>(st.st_size);
  out.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  out.text.resize(out.size);
  size_t got = 0;
  // The file may change while we read; take what is there up to the limit.
  for (;;) {
    if (got == out.text.size()) {
      if (got > max_bytes) break;
      out.text.resize(got + 4096);
    }
    ssize_t n = ::read(f.fd, out.text.data() + got, out.text.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(errno, reason(errno));
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  if (got > max_bytes) return too_large();
  out.text.resize(got);
  out.size = got;
  return out;
}

std::optional<std::string> read_text(const std::filesystem::path& path, std::string& out, uint64_t max_bytes) {
  FileContent content = read_file(path, max_bytes);
  if (!content.ok()) return "cannot read '" + path.string() + "': " + content.error;
  out = std::move(content.text);
  return std::nullopt;
}

}  // namespace astfill::support
