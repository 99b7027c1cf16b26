#include "engine/safetensors.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cstring>
#include <filesystem>
#include <set>

#include "engine/errors.h"
#include "support/files.h"

namespace astfill::engine {
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {
constexpr uint64_t kMaxHeaderBytes = 100u << 20;
}

size_t safetensors_dtype_size(const std::string& d) {
  if (d == "F64" || d == "I64" || d == "U64") return 8;
  if (d == "F32" || d == "I32" || d == "U32") return 4;
  if (d == "F16" || d == "BF16" || d == "I16" || d == "U16") return 2;
  if (d == "I8" || d == "U8" || d == "BOOL" || d == "F8_E4M3" || d == "F8_E5M2") return 1;
  return 0;
}

SafetensorsFile SafetensorsFile::open(const std::string& path) {
  SafetensorsFile st;
  st.file_ = std::make_shared<MappedFile>(path);
  // A file truncated or rewritten while it is read is reported as that.
  try {
    auto bytes = st.file_->bytes();
    auto fail = [&](const std::string& what) -> void { throw ModelError(path + ": " + what); };
    if (bytes.size() < 8) fail("too short to be a safetensors file (" + std::to_string(bytes.size()) + " bytes)");
    uint64_t header_len;
    std::memcpy(&header_len, bytes.data(), 8);
    if (header_len > kMaxHeaderBytes || header_len > bytes.size() - 8)
      fail("header length " + std::to_string(header_len) + " does not fit the file's " +
           std::to_string(bytes.size()) + " bytes (not a safetensors file, or truncated)");
    std::string_view header(reinterpret_cast<const char*>(bytes.data() + 8), header_len);
    std::error_code ec;
    json::value doc = json::parse(header, ec);
    if (ec) fail("header is not valid JSON: " + ec.message());
    auto* obj = doc.if_object();
    if (!obj) fail("header is not a JSON object");
    const uint8_t* data = bytes.data() + 8 + header_len;
    size_t data_size = bytes.size() - 8 - header_len;

    for (auto& [key, value] : *obj) {
      std::string name(key);
      if (name == "__metadata__") {
        if (auto* m = value.if_object())
          for (auto& [mk, mv] : *m)
            if (mv.is_string()) st.metadata_[std::string(mk)] = std::string(mv.get_string());
        continue;
      }
      if (name.size() > kMaxTensorNameBytes)
        fail("a tensor name of " + std::to_string(name.size()) + " bytes (at most " +
             std::to_string(kMaxTensorNameBytes) + ")");
      std::string where = "tensor '" + name + "'";
      auto* t = value.if_object();
      if (!t) fail(where + ": entry is not an object");
      SafeTensor out;
      out.name = name;
      auto* dtype = t->if_contains("dtype");
      if (!dtype || !dtype->is_string()) fail(where + ": 'dtype' is missing or not a string");
      out.dtype = std::string(dtype->get_string());
      size_t esize = safetensors_dtype_size(out.dtype);
      if (!esize) fail(where + ": unknown dtype '" + out.dtype + "'");
      auto* shape = t->if_contains("shape");
      if (!shape || !shape->is_array()) fail(where + ": 'shape' is missing or not an array");
      uint64_t elements = 1;
      for (auto& d : shape->get_array()) {
        if (!d.is_int64() || d.get_int64() < 0) fail(where + ": 'shape' holds a value that is not a non-negative integer");
        int64_t n = d.get_int64();
        if (n && elements > UINT64_MAX / static_cast<uint64_t>(n)) fail(where + ": element count overflows");
        elements *= static_cast<uint64_t>(n);
        out.shape.push_back(n);
      }
      auto* offs = t->if_contains("data_offsets");
      if (!offs || !offs->is_array() || offs->get_array().size() != 2 ||
          !offs->get_array()[0].is_number() || !offs->get_array()[1].is_number())
        fail(where + ": 'data_offsets' must be [begin, end]");
      auto to_u64 = [&](const json::value& v) -> uint64_t {
        if (v.is_uint64()) return v.get_uint64();
        if (v.is_int64() && v.get_int64() >= 0) return static_cast<uint64_t>(v.get_int64());
        fail(where + ": 'data_offsets' must hold non-negative integers");
        return 0;
      };
      uint64_t begin = to_u64(offs->get_array()[0]), end = to_u64(offs->get_array()[1]);
      if (begin > end || end > data_size)
        fail(where + ": data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
             ") lie outside the " + std::to_string(data_size) + " data bytes (truncated?)");
      if (elements > UINT64_MAX / esize || end - begin != elements * esize)
        fail(where + ": " + std::to_string(end - begin) + " bytes of data do not match its shape and dtype " +
             out.dtype);
      out.data = data + begin;
      out.bytes = static_cast<size_t>(end - begin);
      st.tensors_.push_back(std::move(out));
    }
    // Overlapping data would mean two tensors share bytes: refuse.
    std::vector<const SafeTensor*> sorted;
    for (auto& t : st.tensors_) sorted.push_back(&t);
    std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->data < b->data; });
    for (size_t i = 1; i < sorted.size(); ++i)
      if (sorted[i - 1]->bytes && sorted[i - 1]->data + sorted[i - 1]->bytes > sorted[i]->data)
        fail("tensors '" + sorted[i - 1]->name + "' and '" + sorted[i]->name + "' overlap");
  } catch (const ModelError&) {
    st.file_->check_intact();
    throw;
  }
  st.file_->check_intact();
  return st;
}

std::vector<std::string> safetensors_shards(const std::string& dir) {
  fs::path index = fs::path(dir) / "model.safetensors.index.json";
  std::vector<std::string> files;
  if (fs::exists(index)) {
    support::FileContent file = support::read_file(index, support::kMaxTextFileBytes);
    if (!file.ok()) throw ModelError(index.string() + ": cannot read: " + file.error);
    std::error_code ec;
    json::value doc = json::parse(file.text, ec);
    if (ec) throw ModelError(index.string() + ": not valid JSON: " + ec.message());
    auto* map = doc.is_object() ? doc.get_object().if_contains("weight_map") : nullptr;
    if (!map || !map->is_object()) throw ModelError(index.string() + ": 'weight_map' is missing or not an object");
    std::set<std::string> unique;
    for (auto& [name, file] : map->get_object()) {
      if (!file.is_string())
        throw ModelError(index.string() + ": weight_map['" + std::string(name) + "'] is not a file name");
      std::string f(file.get_string());
      if (f.find('/') != std::string::npos || f == "..")
        throw ModelError(index.string() + ": weight_map names '" + f + "', outside the directory");
      unique.insert(f);
    }
    for (auto& f : unique) files.push_back((fs::path(dir) / f).string());
  } else {
    for (auto& e : fs::directory_iterator(dir))
      if (e.path().extension() == ".safetensors") files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
  }
  if (files.empty()) throw ModelError(dir + ": no *.safetensors files");
  return files;
}

}  // namespace astfill::engine
