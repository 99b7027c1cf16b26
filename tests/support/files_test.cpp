// support::read_file: the one way modules read a whole file (limits, special
// files that must not block us, errors that say why), and read_text's message.
#include "support/files.h"

#include <catch2/catch.hpp>
#include <cerrno>
#include <fstream>
#include <sys/stat.h>

#include "../engine/temp_dir.h"

using namespace astfill;
using astfill::testing::TempDir;

namespace {

void write(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

}  // namespace

TEST_CASE("read_file: the bytes, their size and the file's mtime", "[files]") {
  TempDir dir;
  write(dir.path() / "a.txt", std::string("hello\0world", 11));
  support::FileContent c = support::read_file(dir.path() / "a.txt", 100);
  CHECK(c.ok());
  CHECK(c.error_code == 0);
  CHECK(c.text == std::string("hello\0world", 11));
  CHECK(c.size == 11);
  struct stat st {};
  REQUIRE(::stat((dir.path() / "a.txt").c_str(), &st) == 0);
  CHECK(c.mtime_ns == static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec);
  CHECK(support::read_file(dir.path() / "a.txt", 11).ok());  // the limit is inclusive
  CHECK(support::read_file(dir.path() / "a.txt", support::kNoSizeLimit).text.size() == 11);
  write(dir.path() / "empty", "");
  support::FileContent empty = support::read_file(dir.path() / "empty", 0);
  CHECK(empty.ok());
  CHECK(empty.text.empty());
}

TEST_CASE("read_file: errors say why and leave no text", "[files]") {
  TempDir dir;
  write(dir.path() / "a.txt", "hello");
  support::FileContent big = support::read_file(dir.path() / "a.txt", 4);
  CHECK(big.error_code == EFBIG);
  CHECK(big.error == "larger than 4 bytes");
  CHECK(big.text.empty());
  CHECK(big.size == 0);

  support::FileContent none = support::read_file(dir.path() / "none.txt", 100);
  CHECK_FALSE(none.ok());
  CHECK(none.error_code == ENOENT);
  CHECK(none.error == "no such file or directory");

  CHECK(support::read_file(dir.path(), 100).error_code == EINVAL);
  CHECK(support::read_file(dir.path(), 100).error == "a directory, not a file");
  CHECK(support::read_file(dir.path() / "a.txt" / "b", 100).error_code == ENOTDIR);
}

TEST_CASE("read_file: FIFOs and devices are refused without blocking", "[files]") {
  TempDir dir;
  // No writer ever opens the FIFO: a blocking open or read would hang here.
  REQUIRE(::mkfifo((dir.path() / "fifo").c_str(), 0600) == 0);
  support::FileContent fifo = support::read_file(dir.path() / "fifo", 100);
  CHECK(fifo.error_code == EINVAL);
  CHECK(fifo.error == "not a regular file");
  // A device that never ends: refused before reading a byte.
  CHECK(support::read_file("/dev/zero", support::kNoSizeLimit).error_code == EINVAL);
}

TEST_CASE("read_text: the text, or a message naming the path", "[files]") {
  TempDir dir;
  write(dir.path() / "a.py", "x = 1\n");
  std::string text = "untouched";
  CHECK_FALSE(support::read_text(dir.path() / "a.py", text));
  CHECK(text == "x = 1\n");

  text = "untouched";
  auto missing = support::read_text(dir.path() / "gone.py", text);
  REQUIRE(missing);
  CHECK(*missing == "cannot read '" + (dir.path() / "gone.py").string() + "': no such file or directory");
  CHECK(text == "untouched");

  auto too_big = support::read_text(dir.path() / "a.py", text, 3);
  REQUIRE(too_big);
  CHECK(*too_big == "cannot read '" + (dir.path() / "a.py").string() + "': larger than 3 bytes");
}
