#include "engine/gguf.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <sstream>

#include "engine/errors.h"

namespace astfill::engine {
namespace {

constexpr uint32_t kMaxDims = 4;
constexpr uint32_t kMaxArrayDepth = 4;

// What the metadata and the tensor directory may take in memory: a few MiB of
// slack plus 4 bytes per byte of the file, and never more than 256 MiB. A
// real model's directory takes a few MB (Qwen's 151k tokens and merges about
// 15), but the in-memory form of a value is larger than its bytes in the file
// (an empty nested array is 12 bytes there and a whole GgufValue here), so a
// file of nothing but tiny arrays would otherwise take ~14 times its size.
constexpr uint64_t kDirectorySlackBytes = uint64_t{8} << 20;
constexpr uint64_t kMaxDirectoryBytes = uint64_t{256} << 20;
// A std::map node beside its key and value (the key and tensor indexes).
constexpr uint64_t kMapNodeBytes = 64;

// A bounds-checked little-endian cursor over the mapped bytes.
class Reader {
 public:
  Reader(const std::string& path, std::span<const uint8_t> bytes) : path_(path), bytes_(bytes) {}

  size_t pos() const { return pos_; }
  size_t remaining() const { return bytes_.size() - pos_; }

  [[noreturn]] void fail(const std::string& what) const {
    throw ModelError(path_ + ": " + what);
  }

  void need(size_t n, const std::string& what) const {
    if (n > remaining())
      fail("file ends at byte " + std::to_string(bytes_.size()) + " while reading " + what +
           " (needs " + std::to_string(n) + " bytes at offset " + std::to_string(pos_) + ")");
  }

  template <typename T>
  T read(const std::string& what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }

  std::string read_string(const std::string& what) {
    uint64_t len = read<uint64_t>(what + " length");
    if (len > remaining())
      fail(what + ": string length " + std::to_string(len) + " exceeds the " +
           std::to_string(remaining()) + " bytes left in the file");
    // Short strings live inside std::string; longer ones take the heap too.
    charge(len > 15 ? len + 1 : 0, what);
    std::string s(reinterpret_cast<const char*>(bytes_.data() + pos_), len);
    pos_ += len;
    return s;
  }

  // Counts `n` bytes of memory the directory is about to take, before it is
  // allocated; past the budget, fails naming `what`.
  void charge(uint64_t n, const std::string& what) {
    const uint64_t budget = directory_budget();
    if (n > budget - std::min(budget, used_))
      fail(what + ": the metadata and tensor directory would take more than " +
           std::to_string(budget >> 20) + " MiB of memory for a " + std::to_string(bytes_.size()) +
           "-byte file (a real model's take a few MB)");
    used_ += n;
  }
  uint64_t directory_budget() const {
    return std::min<uint64_t>(kMaxDirectoryBytes, kDirectorySlackBytes + 4 * uint64_t{bytes_.size()});
  }

 private:
  const std::string& path_;
  std::span<const uint8_t> bytes_;
  size_t pos_ = 0;
  uint64_t used_ = 0;
};

// Memory an array element of type `t` takes in a GgufValue (strings and
// nested arrays charge their contents as they are read).
uint64_t element_memory(GgufType t) {
  switch (t) {
    case GgufType::String: return sizeof(std::string);
    case GgufType::Array: return sizeof(GgufValue);
    case GgufType::F32: case GgufType::F64: return sizeof(double);
    default: return sizeof(int64_t);
  }
}

size_t scalar_size(GgufType t) {
  switch (t) {
    case GgufType::U8: case GgufType::I8: case GgufType::Bool: return 1;
    case GgufType::U16: case GgufType::I16: return 2;
    case GgufType::U32: case GgufType::I32: case GgufType::F32: return 4;
    case GgufType::U64: case GgufType::I64: case GgufType::F64: return 8;
    case GgufType::String: return 8;  // at least its length
    case GgufType::Array: return 12;  // at least type + count
  }
  return 1;
}

bool known_type(uint32_t t) { return t <= static_cast<uint32_t>(GgufType::F64); }

GgufValue read_value(Reader& r, GgufType type, const std::string& key, uint32_t depth);

void read_scalar_into(Reader& r, GgufType type, const std::string& key, GgufValue& v) {
  switch (type) {
    case GgufType::U8: v.u = r.read<uint8_t>(key); break;
    case GgufType::I8: v.i = r.read<int8_t>(key); break;
    case GgufType::U16: v.u = r.read<uint16_t>(key); break;
    case GgufType::I16: v.i = r.read<int16_t>(key); break;
    case GgufType::U32: v.u = r.read<uint32_t>(key); break;
    case GgufType::I32: v.i = r.read<int32_t>(key); break;
    case GgufType::U64: v.u = r.read<uint64_t>(key); break;
    case GgufType::I64: v.i = r.read<int64_t>(key); break;
    case GgufType::F32: v.f = r.read<float>(key); break;
    case GgufType::F64: v.f = r.read<double>(key); break;
    case GgufType::Bool: {
      uint8_t b = r.read<uint8_t>(key);
      if (b > 1) r.fail(key + ": boolean byte is " + std::to_string(b) + ", not 0 or 1");
      v.b = b != 0;
      break;
    }
    case GgufType::String: v.s = r.read_string(key); break;
    case GgufType::Array: break;
  }
}

GgufValue read_array(Reader& r, const std::string& key, uint32_t depth) {
  if (depth >= kMaxArrayDepth) r.fail(key + ": arrays nested deeper than " + std::to_string(kMaxArrayDepth));
  GgufValue v;
  v.type = GgufType::Array;
  uint32_t et = r.read<uint32_t>(key + " array element type");
  if (!known_type(et)) r.fail(key + ": unknown array element type " + std::to_string(et));
  v.elem_type = static_cast<GgufType>(et);
  uint64_t n = r.read<uint64_t>(key + " array length");
  // Each element takes at least scalar_size bytes, so a count the file cannot
  // hold is refused before anything is allocated.
  if (n > r.remaining() / scalar_size(v.elem_type))
    r.fail(key + ": array of " + std::to_string(n) + " " + gguf_type_name(v.elem_type) +
           " elements cannot fit in the " + std::to_string(r.remaining()) + " bytes left");
  r.charge(n * element_memory(v.elem_type), key);
  switch (v.elem_type) {
    case GgufType::String:
      v.strings.reserve(n);
      for (uint64_t k = 0; k < n; ++k) v.strings.push_back(r.read_string(key + "[" + std::to_string(k) + "]"));
      break;
    case GgufType::F32:
    case GgufType::F64:
      v.floats.reserve(n);
      for (uint64_t k = 0; k < n; ++k) {
        GgufValue e;
        read_scalar_into(r, v.elem_type, key, e);
        v.floats.push_back(e.f);
      }
      break;
    case GgufType::Array:
      v.arrays.reserve(n);
      for (uint64_t k = 0; k < n; ++k) v.arrays.push_back(read_array(r, key + "[" + std::to_string(k) + "]", depth + 1));
      break;
    default:
      v.ints.reserve(n);
      for (uint64_t k = 0; k < n; ++k) {
        GgufValue e;
        e.type = v.elem_type;
        read_scalar_into(r, v.elem_type, key, e);
        v.ints.push_back(e.type == GgufType::Bool ? e.b : e.is_integer() ? *e.as_int() : 0);
      }
  }
  return v;
}

GgufValue read_value(Reader& r, GgufType type, const std::string& key, uint32_t depth) {
  if (type == GgufType::Array) return read_array(r, key, depth);
  GgufValue v;
  v.type = type;
  read_scalar_into(r, type, key, v);
  return v;
}

std::string shape_string(const std::vector<int64_t>& ne) {
  std::string s = "[";
  for (size_t i = 0; i < ne.size(); ++i) s += (i ? ", " : "") + std::to_string(ne[i]);
  return s + "]";
}

}  // namespace

const char* gguf_type_name(GgufType t) {
  switch (t) {
    case GgufType::U8: return "u8";
    case GgufType::I8: return "i8";
    case GgufType::U16: return "u16";
    case GgufType::I16: return "i16";
    case GgufType::U32: return "u32";
    case GgufType::I32: return "i32";
    case GgufType::F32: return "f32";
    case GgufType::Bool: return "bool";
    case GgufType::String: return "string";
    case GgufType::Array: return "array";
    case GgufType::U64: return "u64";
    case GgufType::I64: return "i64";
    case GgufType::F64: return "f64";
  }
  return "?";
}

bool GgufValue::is_integer() const {
  switch (type) {
    case GgufType::U8: case GgufType::I8: case GgufType::U16: case GgufType::I16:
    case GgufType::U32: case GgufType::I32: case GgufType::U64: case GgufType::I64: return true;
    default: return false;
  }
}

std::optional<int64_t> GgufValue::as_int() const {
  switch (type) {
    case GgufType::U8: case GgufType::U16: case GgufType::U32: case GgufType::U64:
      if (u > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
      return static_cast<int64_t>(u);
    case GgufType::I8: case GgufType::I16: case GgufType::I32: case GgufType::I64: return i;
    case GgufType::Bool: return b ? 1 : 0;
    default: return std::nullopt;
  }
}

std::optional<double> GgufValue::as_float() const {
  if (type == GgufType::F32 || type == GgufType::F64) return f;
  if (auto n = as_int()) return static_cast<double>(*n);
  return std::nullopt;
}

size_t GgufValue::array_size() const {
  return ints.size() + floats.size() + strings.size() + arrays.size();
}

std::string GgufValue::summary() const {
  std::ostringstream os;
  switch (type) {
    case GgufType::String: {
      std::string t = s.size() > 60 ? s.substr(0, 57) + "..." : s;
      os << '"' << t << '"';
      break;
    }
    case GgufType::F32: case GgufType::F64: os << f; break;
    case GgufType::Bool: os << (b ? "true" : "false"); break;
    case GgufType::Array: os << gguf_type_name(elem_type) << "[" << array_size() << "]"; break;
    default: os << *as_int();
  }
  return os.str();
}

int64_t GgufTensor::elements() const {
  int64_t n = 1;
  for (auto d : ne) n *= d;
  return n;
}

GgufFile GgufFile::open(const std::string& path) {
  GgufFile g;
  g.file_ = std::make_shared<MappedFile>(path);
  auto bytes = g.file_->bytes();
  Reader r(g.file_->path(), bytes);
  // A file truncated or rewritten while it is read is reported as that, not
  // as whatever its zero-filled or changed bytes look like.
  try {

    r.need(4, "the magic");
    if (std::memcmp(bytes.data(), "GGUF", 4) != 0) r.fail("not a GGUF file (magic bytes are not 'GGUF')");
    r.read<uint32_t>("magic");
    g.version_ = r.read<uint32_t>("version");
    if (g.version_ != 2 && g.version_ != 3)
      r.fail("GGUF version " + std::to_string(g.version_) + " is not supported (2 and 3 are)");
    uint64_t n_tensors = r.read<uint64_t>("tensor count");
    uint64_t n_kv = r.read<uint64_t>("metadata count");
    // A key-value pair takes at least 8 (key length) + 4 (type) + 1 bytes; a
    // tensor entry at least 8 + 4 + 8 + 4 + 8.
    if (n_kv > r.remaining() / 13)
      r.fail("metadata count " + std::to_string(n_kv) + " is more than the file could hold");
    if (n_tensors > r.remaining() / 32)
      r.fail("tensor count " + std::to_string(n_tensors) + " is more than the file could hold");

    for (uint64_t k = 0; k < n_kv; ++k) {
      r.charge(sizeof(g.kv_[0]) + kMapNodeBytes + sizeof(std::string), "metadata key #" + std::to_string(k));
      std::string key = r.read_string("metadata key #" + std::to_string(k));
      uint32_t t = r.read<uint32_t>("type of " + key);
      if (!known_type(t)) r.fail("metadata '" + key + "': unknown value type " + std::to_string(t));
      GgufValue v = read_value(r, static_cast<GgufType>(t), "metadata '" + key + "'", 0);
      if (g.kv_index_.count(key)) r.fail("metadata key '" + key + "' appears twice");
      g.kv_index_[key] = g.kv_.size();
      g.kv_.emplace_back(std::move(key), std::move(v));
    }

    if (auto* a = g.find("general.alignment")) {
      auto n = a->as_int();
      if (!n || *n <= 0 || *n > (1 << 20) || (*n & (*n - 1)) != 0)
        r.fail("general.alignment must be a power of two up to 1 MiB, got " + a->summary());
      g.alignment_ = static_cast<size_t>(*n);
    }

    for (uint64_t k = 0; k < n_tensors; ++k) {
      r.charge(sizeof(GgufTensor) + kMaxDims * sizeof(int64_t) + kMapNodeBytes + sizeof(std::string),
               "tensor #" + std::to_string(k));
      GgufTensor t;
      t.name = r.read_string("tensor #" + std::to_string(k) + " name");
      if (t.name.size() > kMaxTensorNameBytes)
        r.fail("tensor #" + std::to_string(k) + " has a name of " + std::to_string(t.name.size()) +
               " bytes (at most " + std::to_string(kMaxTensorNameBytes) + ")");
      const std::string where = "tensor '" + t.name + "'";
      uint32_t n_dims = r.read<uint32_t>(where + " dimension count");
      if (n_dims == 0 || n_dims > kMaxDims)
        r.fail(where + ": " + std::to_string(n_dims) + " dimensions (1 to 4 are allowed)");
      int64_t elements = 1;
      for (uint32_t d = 0; d < n_dims; ++d) {
        int64_t n = r.read<int64_t>(where + " shape");
        if (n <= 0) r.fail(where + ": dimension " + std::to_string(d) + " is " + std::to_string(n));
        if (elements > INT64_MAX / n) r.fail(where + ": element count overflows");
        elements *= n;
        t.ne.push_back(n);
      }
      uint32_t type_id = r.read<uint32_t>(where + " type");
      auto info = type_info(type_id);
      if (!info) r.fail(where + ": tensor type " + std::to_string(type_id) + " is not supported");
      t.type = info->type;
      if (t.ne[0] % static_cast<int64_t>(info->block_values) != 0)
        r.fail(where + ": row length " + std::to_string(t.ne[0]) + " is not a multiple of the " +
               info->name + " block size " + std::to_string(info->block_values));
      uint64_t blocks = static_cast<uint64_t>(elements) / info->block_values;
      if (blocks > bytes.size() / info->block_bytes)
        r.fail(where + ": " + shape_string(t.ne) + " " + info->name + " needs more bytes than the file has");
      t.bytes = static_cast<size_t>(blocks) * info->block_bytes;
      t.offset = r.read<uint64_t>(where + " offset");
      if (t.offset % g.alignment_ != 0)
        r.fail(where + ": data offset " + std::to_string(t.offset) + " is not aligned to " +
               std::to_string(g.alignment_));
      if (g.tensor_index_.count(t.name)) r.fail("tensor name '" + t.name + "' appears twice");
      g.tensor_index_[t.name] = g.tensors_.size();
      g.tensors_.push_back(std::move(t));
    }

    size_t data_start = (r.pos() + g.alignment_ - 1) / g.alignment_ * g.alignment_;
    if (data_start > bytes.size() && !g.tensors_.empty())
      r.fail("the tensor data section (at byte " + std::to_string(data_start) + ") lies past the end of the file");
    size_t data_size = bytes.size() > data_start ? bytes.size() - data_start : 0;
    g.data_offset_ = data_start;

    // Bounds, then overlaps (sorted by offset).
    std::vector<const GgufTensor*> by_offset;
    for (auto& t : g.tensors_) {
      if (t.offset > data_size || t.bytes > data_size - t.offset)
        r.fail("tensor '" + t.name + "' " + shape_string(t.ne) + " " + type_info(t.type).name + ": its " +
               std::to_string(t.bytes) + " bytes at data offset " + std::to_string(t.offset) +
               " run past the end of the file (data section is " + std::to_string(data_size) + " bytes; truncated?)");
      t.data = bytes.data() + data_start + t.offset;
      by_offset.push_back(&t);
    }
    std::sort(by_offset.begin(), by_offset.end(),
              [](auto* a, auto* b) { return a->offset < b->offset; });
    for (size_t k = 1; k < by_offset.size(); ++k) {
      auto* prev = by_offset[k - 1];
      if (prev->offset + prev->bytes > by_offset[k]->offset)
        r.fail("tensors '" + prev->name + "' and '" + by_offset[k]->name + "' overlap in the data section");
    }
    // Writers lay tensors out back to back, each padded to the alignment, so a
    // tensor's data runs up to the next one (or the end of the file). More
    // bytes than its type and shape need means the type or shape was changed
    // after the data was written (F32 relabelled Q8_0 reads a quarter of it as
    // something else): refuse it rather than run on misread weights.
    for (size_t k = 0; k < by_offset.size(); ++k) {
      const GgufTensor& t = *by_offset[k];
      const uint64_t region = (k + 1 < by_offset.size() ? by_offset[k + 1]->offset : data_size) - t.offset;
      if (region - t.bytes >= g.alignment_)
        r.fail("tensor '" + t.name + "' " + shape_string(t.ne) + " " + type_info(t.type).name + " takes " +
               std::to_string(t.bytes) + " bytes, but its data region (to " +
               (k + 1 < by_offset.size() ? "tensor '" + by_offset[k + 1]->name + "'" : std::string("the end of the file")) +
               ") holds " + std::to_string(region) + ": its type or shape does not match its data (relabelled?)");
    }
  } catch (const ModelError&) {
    g.file_->check_intact();
    throw;
  }
  g.file_->check_intact();
  return g;
}

const GgufValue* GgufFile::find(const std::string& key) const {
  auto it = kv_index_.find(key);
  return it == kv_index_.end() ? nullptr : &kv_[it->second].second;
}

const GgufTensor* GgufFile::tensor(const std::string& name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

std::string GgufFile::get_string(const std::string& key) const {
  auto* v = find(key);
  if (!v) throw ModelError(path() + ": metadata key '" + key + "' is missing");
  if (v->type != GgufType::String)
    throw ModelError(path() + ": metadata '" + key + "' should be a string, is " + gguf_type_name(v->type));
  return v->s;
}

int64_t GgufFile::get_int(const std::string& key) const {
  auto n = get_int_opt(key);
  if (!n) throw ModelError(path() + ": metadata key '" + key + "' is missing");
  return *n;
}

double GgufFile::get_float(const std::string& key) const {
  auto f = get_float_opt(key);
  if (!f) throw ModelError(path() + ": metadata key '" + key + "' is missing");
  return *f;
}

std::optional<int64_t> GgufFile::get_int_opt(const std::string& key) const {
  auto* v = find(key);
  if (!v) return std::nullopt;
  auto n = v->as_int();
  if (!n || v->type == GgufType::Bool)
    throw ModelError(path() + ": metadata '" + key + "' should be an integer, is " + gguf_type_name(v->type));
  return n;
}

std::optional<double> GgufFile::get_float_opt(const std::string& key) const {
  auto* v = find(key);
  if (!v) return std::nullopt;
  auto f = v->as_float();
  if (!f || v->type == GgufType::Bool)
    throw ModelError(path() + ": metadata '" + key + "' should be a number, is " + gguf_type_name(v->type));
  return f;
}

}  // namespace astfill::engine
