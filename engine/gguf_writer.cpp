#include "engine/gguf_writer.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>

#include "engine/errors.h"

namespace astfill::engine {
namespace {

class Out {
 public:
  explicit Out(std::string& buf) : buf_(buf) {}
  template <typename T>
  void put(T v) {
    char b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    buf_.append(b, sizeof(T));
  }
  void put_string(const std::string& s) {
    put<uint64_t>(s.size());
    buf_.append(s);
  }
  void pad_to(size_t alignment) {
    while (buf_.size() % alignment) buf_.push_back('\0');
  }

 private:
  std::string& buf_;
};

void put_scalar(Out& o, GgufType t, const GgufValue& v) {
  switch (t) {
    case GgufType::U8: o.put<uint8_t>(static_cast<uint8_t>(v.u)); break;
    case GgufType::I8: o.put<int8_t>(static_cast<int8_t>(v.i)); break;
    case GgufType::U16: o.put<uint16_t>(static_cast<uint16_t>(v.u)); break;
    case GgufType::I16: o.put<int16_t>(static_cast<int16_t>(v.i)); break;
    case GgufType::U32: o.put<uint32_t>(static_cast<uint32_t>(v.u)); break;
    case GgufType::I32: o.put<int32_t>(static_cast<int32_t>(v.i)); break;
    case GgufType::U64: o.put<uint64_t>(v.u); break;
    case GgufType::I64: o.put<int64_t>(v.i); break;
    case GgufType::F32: o.put<float>(static_cast<float>(v.f)); break;
    case GgufType::F64: o.put<double>(v.f); break;
    case GgufType::Bool: o.put<uint8_t>(v.b ? 1 : 0); break;
    case GgufType::String: o.put_string(v.s); break;
    case GgufType::Array: break;
  }
}

GgufValue element(GgufType t, int64_t n) {
  GgufValue e;
  e.type = t;
  e.i = n;
  e.u = static_cast<uint64_t>(n);
  e.b = n != 0;
  return e;
}

void put_value(Out& o, const GgufValue& v) {
  if (v.type != GgufType::Array) return put_scalar(o, v.type, v);
  o.put<uint32_t>(static_cast<uint32_t>(v.elem_type));
  o.put<uint64_t>(v.array_size());
  switch (v.elem_type) {
    case GgufType::String:
      for (auto& s : v.strings) o.put_string(s);
      break;
    case GgufType::F32:
      for (double f : v.floats) o.put<float>(static_cast<float>(f));
      break;
    case GgufType::F64:
      for (double f : v.floats) o.put<double>(f);
      break;
    case GgufType::Array:
      for (auto& a : v.arrays) put_value(o, a);
      break;
    default:
      for (int64_t n : v.ints) put_scalar(o, v.elem_type, element(v.elem_type, n));
  }
}

}  // namespace

void GgufWriter::set(const std::string& key, GgufValue value) {
  for (auto& [k, v] : kv_)
    if (k == key) {
      v = std::move(value);
      return;
    }
  kv_.emplace_back(key, std::move(value));
}

void GgufWriter::set_string(const std::string& key, std::string s) {
  GgufValue v;
  v.type = GgufType::String;
  v.s = std::move(s);
  set(key, std::move(v));
}

void GgufWriter::set_u32(const std::string& key, uint32_t n) {
  GgufValue v;
  v.type = GgufType::U32;
  v.u = n;
  set(key, std::move(v));
}

void GgufWriter::set_i32(const std::string& key, int32_t n) {
  GgufValue v;
  v.type = GgufType::I32;
  v.i = n;
  set(key, std::move(v));
}

void GgufWriter::set_f32(const std::string& key, float f) {
  GgufValue v;
  v.type = GgufType::F32;
  v.f = f;
  set(key, std::move(v));
}

void GgufWriter::set_bool(const std::string& key, bool b) {
  GgufValue v;
  v.type = GgufType::Bool;
  v.b = b;
  set(key, std::move(v));
}

void GgufWriter::set_strings(const std::string& key, std::vector<std::string> s) {
  GgufValue v;
  v.type = GgufType::Array;
  v.elem_type = GgufType::String;
  v.strings = std::move(s);
  set(key, std::move(v));
}

void GgufWriter::set_i32s(const std::string& key, std::vector<int32_t> n) {
  GgufValue v;
  v.type = GgufType::Array;
  v.elem_type = GgufType::I32;
  v.ints.assign(n.begin(), n.end());
  set(key, std::move(v));
}

namespace {
size_t tensor_bytes(const std::string& name, GgmlType type, const std::vector<int64_t>& ne) {
  const auto& info = type_info(type);
  int64_t elements = 1;
  for (auto d : ne) elements *= d;
  if (ne.empty() || ne.size() > 4 || ne[0] % static_cast<int64_t>(info.block_values) != 0)
    throw std::invalid_argument("tensor '" + name + "': shape does not fit type " + info.name);
  return static_cast<size_t>(elements) / info.block_values * info.block_bytes;
}
}  // namespace

void GgufWriter::add_tensor(const std::string& name, GgmlType type, std::vector<int64_t> ne,
                            std::vector<uint8_t> data) {
  size_t want = tensor_bytes(name, type, ne);
  if (data.size() != want)
    throw std::invalid_argument("tensor '" + name + "': " + std::to_string(data.size()) +
                                " bytes given, " + std::to_string(want) + " expected");
  tensors_.push_back(Tensor{name, type, std::move(ne), want, std::move(data), nullptr});
}

void GgufWriter::add_tensor_lazy(const std::string& name, GgmlType type, std::vector<int64_t> ne,
                                 std::function<void(std::vector<uint8_t>&)> produce) {
  size_t want = tensor_bytes(name, type, ne);
  tensors_.push_back(Tensor{name, type, std::move(ne), want, {}, std::move(produce)});
}

void GgufWriter::add_tensor_f32(const std::string& name, GgmlType type, std::vector<int64_t> ne,
                                const std::vector<float>& values) {
  const auto& info = type_info(type);
  if (ne.empty() || ne[0] % static_cast<int64_t>(info.block_values) != 0)
    throw std::invalid_argument("tensor '" + name + "': shape does not fit type " + info.name);
  size_t row = static_cast<size_t>(ne[0]);
  size_t rows = values.size() / row;
  std::vector<uint8_t> data(rows * row_bytes(type, row));
  for (size_t r = 0; r < rows; ++r)
    quantize_row(type, values.data() + r * row, data.data() + r * row_bytes(type, row), row);
  add_tensor(name, type, std::move(ne), std::move(data));
}

void GgufWriter::write(const std::string& path) const {
  std::string head;
  Out o(head);
  o.put<uint32_t>(0x46554747);  // "GGUF"
  o.put<uint32_t>(3);
  o.put<uint64_t>(tensors_.size());
  bool has_alignment = false;
  for (auto& [k, _] : kv_) has_alignment |= k == "general.alignment";
  o.put<uint64_t>(kv_.size() + (alignment_ != 32 && !has_alignment ? 1 : 0));
  for (auto& [k, v] : kv_) {
    o.put_string(k);
    o.put<uint32_t>(static_cast<uint32_t>(v.type));
    put_value(o, v);
  }
  if (alignment_ != 32 && !has_alignment) {
    o.put_string("general.alignment");
    o.put<uint32_t>(static_cast<uint32_t>(GgufType::U32));
    o.put<uint32_t>(static_cast<uint32_t>(alignment_));
  }
  uint64_t offset = 0;
  for (auto& t : tensors_) {
    o.put_string(t.name);
    o.put<uint32_t>(static_cast<uint32_t>(t.ne.size()));
    for (auto d : t.ne) o.put<int64_t>(d);
    o.put<uint32_t>(static_cast<uint32_t>(t.type));
    o.put<uint64_t>(offset);
    offset += (t.bytes + alignment_ - 1) / alignment_ * alignment_;
  }
  o.pad_to(alignment_);

  std::string tmp = path + ".partial";
  try {
    write_to(tmp, head);
  } catch (...) {
    std::remove(tmp.c_str());
    throw;
  }
  // Written whole, then renamed: a crash never leaves half a model behind.
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    throw ModelError(path + ": cannot rename from " + tmp + ": " + std::strerror(errno));
}

void GgufWriter::write_to(const std::string& path, const std::string& head) const {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "wb"), &std::fclose);
  if (!f) throw ModelError(path + ": cannot write: " + std::strerror(errno));
  auto put = [&](const void* p, size_t n) {
    if (n && std::fwrite(p, 1, n, f.get()) != n)
      throw ModelError(path + ": write failed: " + std::strerror(errno));
  };
  put(head.data(), head.size());
  static const char zeros[64] = {};
  std::vector<uint8_t> produced;
  for (auto& t : tensors_) {
    const std::vector<uint8_t>* data = &t.data;
    if (t.produce) {
      produced.clear();
      t.produce(produced);
      if (produced.size() != t.bytes)
        throw std::logic_error("tensor '" + t.name + "': produced " + std::to_string(produced.size()) +
                               " bytes, expected " + std::to_string(t.bytes));
      data = &produced;
    }
    put(data->data(), data->size());
    size_t pad = (alignment_ - t.bytes % alignment_) % alignment_;
    while (pad) {
      size_t n = std::min(pad, sizeof zeros);
      put(zeros, n);
      pad -= n;
    }
  }
  if (std::fflush(f.get()) != 0) throw ModelError(path + ": write failed: " + std::strerror(errno));
}

}  // namespace astfill::engine
