#include "executor/wal_commit.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

namespace etcdmesos::executor {

namespace {

constexpr uint64_t kStateRecord = 3;
constexpr uint32_t kHardStateCommitField = 3;

// A protobuf reader over one message's bytes: varints and length-delimited
// fields only (what walpb.Record and raftpb.HardState use); any other wire
// type, or a value running past the end, makes the message malformed.
class Fields {
 public:
  explicit Fields(std::string_view bytes) : rest_(bytes) {}

  struct Field {
    uint32_t number = 0;
    uint64_t varint = 0;     // wire type 0
    std::string_view bytes;  // wire type 2
  };

  // nullopt at the end; `bad` tells an end from a malformed field.
  std::optional<Field> next() {
    if (rest_.empty()) {
      return std::nullopt;
    }
    const auto key = varint();
    if (!key) {
      return fail();
    }
    Field f;
    f.number = static_cast<uint32_t>(*key >> 3);
    switch (*key & 7) {
      case 0: {
        const auto v = varint();
        if (!v) {
          return fail();
        }
        f.varint = *v;
        return f;
      }
      case 2: {
        const auto len = varint();
        if (!len || *len > rest_.size()) {
          return fail();
        }
        f.bytes = rest_.substr(0, *len);
        rest_.remove_prefix(*len);
        return f;
      }
      default:
        return fail();
    }
  }
  bool bad() const { return bad_; }

 private:
  std::optional<uint64_t> varint() {
    uint64_t value = 0;
    for (int shift = 0; shift < 64 && !rest_.empty(); shift += 7) {
      const auto byte = static_cast<uint8_t>(rest_.front());
      rest_.remove_prefix(1);
      value |= uint64_t{byte & 0x7fu} << shift;
      if ((byte & 0x80u) == 0) {
        return value;
      }
    }
    return std::nullopt;
  }
  std::optional<Field> fail() {
    bad_ = true;
    rest_ = {};
    return std::nullopt;
  }

  std::string_view rest_;
  bool bad_ = false;
};

std::optional<uint64_t> hard_state_commit(std::string_view data) {
  Fields fields(data);
  uint64_t commit = 0;
  while (auto f = fields.next()) {
    if (f->number == kHardStateCommitField) {
      commit = f->varint;
    }
  }
  return fields.bad() ? std::nullopt : std::optional(commit);
}

}  // namespace

std::optional<uint64_t> last_hard_state_commit(std::string_view wal) {
  std::optional<uint64_t> last;
  while (wal.size() >= 8) {
    uint64_t len_field = 0;
    for (int i = 7; i >= 0; --i) {
      len_field = (len_field << 8) | static_cast<uint8_t>(wal[static_cast<std::size_t>(i)]);
    }
    wal.remove_prefix(8);
    if (len_field == 0) {
      break;  // preallocated space
    }
    const uint64_t length = len_field & ~(uint64_t{0xff} << 56);
    const uint64_t padding = (len_field >> 63) != 0 ? (len_field >> 56) & 7 : 0;
    if (length > wal.size() || length + padding > wal.size()) {
      break;  // torn at the end
    }
    Fields record(wal.substr(0, length));
    wal.remove_prefix(length + padding);
    uint64_t type = 0;
    std::string_view data;
    while (auto f = record.next()) {
      if (f->number == 1) {
        type = f->varint;
      } else if (f->number == 3) {
        data = f->bytes;
      }
    }
    if (record.bad()) {
      break;
    }
    if (type == kStateRecord) {
      if (const auto commit = hard_state_commit(data)) {
        last = *commit;
      } else {
        break;
      }
    }
  }
  return last;
}

Result<uint64_t> wal_commit_index(const std::filesystem::path& data_dir) {
  const auto dir = data_dir / "member" / "wal";
  std::error_code ec;
  std::vector<std::filesystem::path> files;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() == ".wal") {
      files.push_back(it->path());
    }
  }
  if (ec) {
    return make_error("cannot read " + dir.string() + ": " + ec.message());
  }
  std::sort(files.begin(), files.end());  // <seq>-<index>: fixed-width hex
  std::optional<uint64_t> last;
  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) {
      return make_error("cannot read " + file.string());
    }
    if (const auto commit = last_hard_state_commit(bytes)) {
      last = commit;
    }
  }
  if (!last) {
    return make_error("no raft hard state in the WAL under " + dir.string());
  }
  return *last;
}

}  // namespace etcdmesos::executor
