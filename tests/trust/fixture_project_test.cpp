// Issue 21's fixture: a three-file project whose imported module holds
// `DB_PASSWORD = "hunter2"` and a GitHub token, with a `.env` beside it. The
// prompt and the details completion shows carry placeholders only, the index
// database holds neither secret and is private to its owner, and credential
// files are never indexed, whatever .gitignore says.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <sys/stat.h>

#include "../engine/temp_dir.h"
#include "completion/context.h"
#include "completion/prompt.h"
#include "index/deny.h"
#include "index/parsed.h"
#include "index/walk.h"

namespace astfill {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

const std::string token = "ghp_Zk3J9x2Lq8ZpT4vB7nW1cYh6Rt5Ms0DfGa2E";

void write(const fs::path& root, const std::string& rel, const std::string& text) {
  fs::create_directories((root / rel).parent_path());
  std::ofstream(root / rel, std::ios::binary) << text;
}

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

const std::string config_py = "\"\"\"Settings.\"\"\"\n\nDB_PASSWORD = \"hunter2\"\nGITHUB_TOKEN = \"" + token +
                              "\"\n\n\ndef connect(password):\n    \"\"\"Opens the database.\"\"\"\n    return password\n";
const std::string app_py =
    "from config import DB_PASSWORD, GITHUB_TOKEN, connect\n\nBACKUP_TOKEN = \"" + token +
    "\"\n\n\ndef main():\n    db = connect(DB_PASSWORD)\n    return ";

struct Project {
  TempDir dir, cache;
  fs::path root = dir.path();
  std::unique_ptr<index::Index> index;

  Project() {
    write(root, "config.py", config_py);
    write(root, "app.py", app_py);
    write(root, "util.py", "def double(x):\n    return 2 * x\n");
    write(root, ".env", "DB_PASSWORD=hunter2\nGITHUB_TOKEN=" + token + "\n");
    write(root, "secrets/prod.py", "PROD_ONLY = 1\n");
    write(root, "deploy/id_rsa.py", "KEY_HOLDER = 1\n");
    // Re-including credentials in .gitignore does not bring them back.
    write(root, ".gitignore", "!.env\n!secrets/\n");
    index::IndexOptions options;
    options.root = root;
    options.database = cache.path() / "index.sqlite";
    options.parse_threads = 1;
    index = index::open_project_index(options);
    index->sync_with_disk();
    index->wait_until_idle();
  }
};

TEST_CASE("the index stores placeholders, not secrets, in a database only its owner can read", "[trust][fixture]") {
  Project p;
  std::vector<index::Symbol> found = p.index->definitions("DB_PASSWORD", "app.py");
  REQUIRE(found.size() == 1);
  // The signature is what completion items show as their detail.
  CHECK(found[0].signature == "DB_PASSWORD = \"<secret:password>\"");
  found = p.index->definitions("GITHUB_TOKEN", "app.py");
  REQUIRE(found.size() == 1);
  CHECK(found[0].signature == "GITHUB_TOKEN = \"<secret:github-token>\"");
  for (const index::Symbol& s : p.index->symbols_with_prefix("")) {
    INFO(s.path << ": " << s.signature);
    CHECK(s.signature.find("hunter2") == std::string::npos);
    CHECK(s.signature.find(token) == std::string::npos);
    CHECK(s.path != ".env");
    CHECK(!s.path.starts_with("secrets/"));
    CHECK(s.path != "deploy/id_rsa.py");
  }
  CHECK(p.index->definitions("PROD_ONLY", "app.py").empty());
  CHECK(p.index->definitions("KEY_HOLDER", "app.py").empty());
  CHECK(p.index->definitions("double", "app.py").size() == 1);  // the walk did run

  // The bytes on disk: the database and its write-ahead log, while open and
  // after close.
  fs::path db = p.index->database_path();
  auto check_files = [&] {
    for (const char* suffix : {"", "-wal", "-shm"}) {
      fs::path file = db.string() + suffix;
      if (!fs::exists(file)) continue;
      INFO(file.string());
      std::string bytes = read_bytes(file);
      CHECK(bytes.find("hunter2") == std::string::npos);
      CHECK(bytes.find(token) == std::string::npos);
      CHECK(bytes.find(token.substr(4)) == std::string::npos);
      struct stat st {};
      REQUIRE(::stat(file.c_str(), &st) == 0);
      CHECK((st.st_mode & 0777) == 0600);
    }
  };
  REQUIRE(fs::exists(db));
  check_files();
  p.index.reset();
  check_files();
}

TEST_CASE("the prompt carries placeholders only, from the imported module and the current file", "[trust][fixture]") {
  Project p;
  completion::ContextRequest request;
  request.index = p.index.get();
  request.path = "app.py";
  request.language_id = "python";
  request.text = app_py;
  request.cursor = app_py.size();
  request.repo_name = "fixture";
  request.recent_edits = {{"notes.py", "# ops: DB_PASSWORD = \"hunter2\" until Friday\nPASSWORD = \"hunter2\"\n"}};
  completion::Context context = completion::build_context(request);
  std::string prompt = completion::render_prompt(*completion::find_fim_template("qwen"), context.parts);
  INFO(prompt);
  CHECK(prompt.find("hunter2") == std::string::npos);
  CHECK(prompt.find(token) == std::string::npos);
  CHECK(prompt.find("DB_PASSWORD = \"<secret:password>\"") != std::string::npos);
  CHECK(prompt.find("GITHUB_TOKEN = \"<secret:github-token>\"") != std::string::npos);
  CHECK(prompt.find("BACKUP_TOKEN = \"<secret:github-token>\"") != std::string::npos);  // the current file's
  CHECK(context.parts.prefix.ends_with("    return "));
  CHECK(context.report.secrets_redacted >= 4);
}

TEST_CASE("the deny-list: built-in patterns at any depth, settings add more and cannot re-include", "[trust][deny]") {
  index::DenyList deny;
  for (const char* path : {".env", ".env.production", "app/.env.local", "certs/server.pem", "tls.key", "id_rsa",
                           "home/.ssh/id_ed25519.pub", ".aws/credentials", "x/.ssh/config", "secrets/prod.py",
                           "a/secrets/b/c.py", "db.kdbx", ".netrc", ".npmrc", ".pypirc", "store.p12", "cert.pfx",
                           "credentials.json", "/home/u/project/.env"})
    CHECK(deny.denied(path));
  for (const char* path : {"env.py", "src/environment.py", "keys.py", "secrets.py", "lib/secret_sharing.py",
                           "docs/pem_format.md", "ssh/client.py", "aws/s3.py", "keyboard.key.py"})
    CHECK(!deny.denied(path));
  index::DenyList extended({"*.sops.yaml", "private/", "!.env"});
  CHECK(extended.denied("deploy/values.sops.yaml"));
  CHECK(extended.denied("private/notes.py"));
  CHECK(extended.denied(".env"));  // "!" in a deny setting does not re-include
  CHECK(!deny.denied("private/notes.py"));

  // The walk and the single-path cache agree.
  TempDir dir;
  write(dir.path(), "a.py", "");
  write(dir.path(), ".env", "");
  write(dir.path(), "secrets/b.py", "");
  write(dir.path(), "sub/id_rsa", "");
  index::WalkOptions options;
  options.deny = &deny;
  index::WalkResult walk = index::walk_workspace(dir.path(), options);
  std::vector<std::string> paths;
  for (const auto& f : walk.files) paths.push_back(f.path);
  CHECK(paths == std::vector<std::string>{"a.py"});
  CHECK(walk.denied == 3);
  index::IgnoreCache cache(dir.path(), deny);
  CHECK(cache.ignored(".env"));
  CHECK(cache.ignored("secrets/b.py"));
  CHECK(!cache.ignored("a.py"));
}

}  // namespace
}  // namespace astfill
