#include "index/deny.h"

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

}  // namespace astfill::index
