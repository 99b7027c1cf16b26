#include "index/deny.h"

#include <sys/stat.h>

#include "support/files.h"

namespace astfill::index {
namespace {

std::string joined(const std::vector<std::string>& extra) {
  std::string text;
  for (const std::string& p : DenyList::builtin_patterns()) text += p + "\n";
  for (const std::string& p : extra) {
    // A deny pattern only adds: a leading '!' would re-include, so it is
    // taken literally.
    text += (p.starts_with("!") ? "\\" + p : p) + "\n";
  }
  return text;
}

}  // namespace

const std::vector<std::string>& DenyList::builtin_patterns() {
  static const std::vector<std::string> patterns = {
      // environment files (dotenv, direnv) and keys, certificates, keystores
      ".env", ".env.*", ".envrc", "*.pem", "*.key", "*.p12", "*.pfx", "*.jks", "*.keystore", "*.kdbx",
      "id_rsa*", "id_dsa*", "id_ecdsa*", "id_ed25519*",
      // credential stores of tools
      ".aws/", ".ssh/", ".gnupg/", ".docker/config.json", ".netrc", "_netrc", ".npmrc", ".pypirc", ".pgpass",
      ".git-credentials", ".htpasswd", "credentials", "credentials.json", "credentials.yml", "credentials.yaml",
      "client_secret*.json",
      // a project's own secrets directory
      "secrets/",
  };
  return patterns;
}

DenyList::DenyList(const std::vector<std::string>& extra) : patterns_(joined(extra), "") {}

bool DenyList::denied(std::string_view path) const {
  while (path.starts_with('/')) path.remove_prefix(1);  // an absolute path (a file outside every folder)
  for (size_t slash = path.find('/'); slash != std::string_view::npos; slash = path.find('/', slash + 1))
    if (patterns_.check(path.substr(0, slash), true) == IgnoreFile::Verdict::Ignored) return true;
  return patterns_.check(path, false) == IgnoreFile::Verdict::Ignored;
}

namespace {
// The .astfillignore of `dir` ("" for the root), if it is a regular file
// (a FIFO there must not block a completion) of at most 1 MB, as the walk.
void push_astfillignore(IgnoreStack& stack, const std::filesystem::path& root, const std::string& dir) {
  std::filesystem::path path = dir.empty() ? root / ".astfillignore" : root / dir / ".astfillignore";
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return;
  support::FileContent content = support::read_file(path, 1 << 20);
  if (!content.error.empty()) return;
  IgnoreFile file(content.text, dir);
  if (!file.empty()) stack.push(std::move(file));
}
}  // namespace

bool astfill_ignored(const std::filesystem::path& root, std::string_view path) {
  if (root.empty() || path.empty() || path.starts_with('/')) return false;
  IgnoreStack stack;
  push_astfillignore(stack, root, "");
  for (size_t slash = path.find('/'); slash != std::string_view::npos; slash = path.find('/', slash + 1)) {
    std::string dir(path.substr(0, slash));
    if (stack.ignored(dir, true)) return true;
    push_astfillignore(stack, root, dir);
  }
  return stack.ignored(path, false);
}

}  // namespace astfill::index
