// Downloading one large file over HTTP(S) with libcurl, the way model files
// need it: into DEST.part, resumed with an HTTP Range request after an
// interruption, checked against the size and SHA-256 the server publishes,
// then renamed into place. Nothing incomplete or unverified ever carries the
// final name.
//
// Hugging Face publishes a file's SHA-256 on the resolve URL's redirect: the
// X-Linked-Etag header holds it (quoted), X-Linked-Size the size (the same
// headers huggingface_hub reads). Other servers get their Content-Length
// checked and no hash.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

namespace astfill::hub {

struct DownloadProgress {
  uint64_t bytes_done = 0;           // in the .part file, including what a resume reused
  std::optional<uint64_t> total;     // when the server said
  uint64_t bytes_this_run = 0;       // received by this process (for a rate)
};

struct DownloadOptions {
  std::string url;
  std::filesystem::path destination;
  std::function<void(const DownloadProgress&)> progress;  // called as bytes arrive
  std::string user_agent = "astfill";
  long connect_timeout_seconds = 20;
  long stall_seconds = 60;  // give up when no byte arrives for this long
};

struct DownloadResult {
  std::string error;             // empty on success; otherwise what went wrong, naming the URL or file
  uint64_t bytes = 0;            // the file's size
  uint64_t resumed_from = 0;     // bytes of an earlier .part that were kept
  std::string sha256;            // of the file (hex)
  std::string expected_sha256;   // what the server published; empty when it published none
};

// DEST.part: where a download collects until it is verified.
std::filesystem::path partial_path(const std::filesystem::path& destination);

// Downloads options.url to options.destination (whose directory must exist).
// A .part file from an interrupted run is resumed; one that fails the
// checksum is removed. Failures leave the destination untouched.
DownloadResult download_file(const DownloadOptions& options);

}  // namespace astfill::hub
