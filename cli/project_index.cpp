#include "cli/project_index.h"

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

#include "index/database.h"
#include "index/files.h"
#include "index/parsed.h"

namespace astfill::cli {
namespace fs = std::filesystem;

void ProjectIndexOptions::add_to(ArgParser& p) {
  p.option("--database", "FILE",
           "the index database (default: the daemon's, under\n"
           "$XDG_CACHE_HOME/astfill/index/)",
           [this](const std::string& v) -> std::optional<std::string> {
             database = v;
             return std::nullopt;
           });
  p.option("--max-file-bytes", "N", "leave out files larger than N bytes (default 1048576)",
           [this](const std::string& v) -> std::optional<std::string> {
             unsigned long long n = 0;
             if (auto e = parse_uint(v, "byte count", 1, 1ull << 40, n)) return e;
             max_file_bytes = n;
             return std::nullopt;
           });
  p.option("--threads", "N", "parse threads (default: one per core)",
           [this](const std::string& v) -> std::optional<std::string> {
             unsigned long long n = 0;
             if (auto e = parse_uint(v, "thread count", 1, 256, n)) return e;
             threads = static_cast<unsigned>(n);
             return std::nullopt;
           });
  p.option("--include-dir", "DIR",
           "a C/C++ include directory inside the folder, for resolving #include\n"
           "(relative to the folder; may be repeated)",
           [this](const std::string& v) -> std::optional<std::string> {
             include_dirs.push_back(v);
             return std::nullopt;
           });
}

namespace {

// Why the database cannot be written, found by opening it for writing before
// SQLite does (whose own failure would first try to move the file aside as
// damaged). A file created here is empty, which the index takes as new.
std::optional<std::string> unwritable(const fs::path& database) {
  std::error_code ec;
  const std::string path = database.string();
  const std::string dir = database.parent_path().empty() ? std::string(".") : database.parent_path().string();
  fs::create_directories(dir, ec);
  if (ec) return "cannot create the folder '" + dir + "': " + ec.message();
  if (fs::is_directory(database, ec)) return "'" + path + "' is a folder";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return "cannot write '" + path + "': " + std::error_code(errno, std::generic_category()).message();
  ::close(fd);
  return std::nullopt;
}

}  // namespace

OpenedIndex open_index(const std::string& root, const ProjectIndexOptions& options) {
  std::error_code ec;
  if (!fs::exists(root, ec)) return {nullptr, "'" + root + "': no such file or directory"};
  if (!fs::is_directory(root, ec)) return {nullptr, "'" + root + "' is not a directory"};
  index::IndexOptions o;
  o.root = root;
  // The database path the index would choose, so that it can be checked first.
  o.database = options.database.empty() ? index::default_database_path(fs::canonical(root, ec))
                                        : fs::path(options.database);
  o.max_file_bytes = options.max_file_bytes;
  o.parse_threads = options.threads;
  o.include_dirs = options.include_dirs;
  o.background_nice = 0;  // indexing is the command's whole job
  if (auto why = unwritable(o.database)) return {nullptr, "index database: " + *why};
  try {
    return {index::open_project_index(std::move(o)), ""};
  } catch (const index::IndexError& e) {
    return {nullptr, e.what()};
  }
}

uint64_t database_bytes(const fs::path& database) {
  uint64_t total = 0;
  std::error_code ec;
  for (const fs::path& p : {database, fs::path(database.string() + "-wal")}) {
    auto size = fs::file_size(p, ec);
    if (!ec) total += size;
  }
  return total;
}

}  // namespace astfill::cli
