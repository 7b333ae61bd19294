// RecordIO decoder: bytes fed in pieces of arbitrary sizes (the first byte
// picks the piece size) must give the same records or the same error as the
// whole input at once; a failed decoder stays failed; records respect the bound.
#include "codec/recordio.hpp"
#include "fuzz_check.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace {
constexpr std::size_t kMaxRecord = 4096;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  const std::size_t piece = 1 + data[0] % 64;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);

  etcdmesos::recordio::Decoder whole(kMaxRecord);
  auto all = whole.feed(input);

  etcdmesos::recordio::Decoder pieces(kMaxRecord);
  std::vector<std::string> records;
  bool failed = false;
  for (std::size_t at = 0; at < input.size() && !failed; at += piece) {
    auto got = pieces.feed(input.substr(at, piece));
    if (!got) {
      failed = true;
      FUZZ_CHECK(pieces.failed());
      FUZZ_CHECK(!pieces.feed("1\nx"));  // stays failed
      break;
    }
    for (auto& r : *got) {
      FUZZ_CHECK(r.size() <= kMaxRecord);
      records.push_back(std::move(r));
    }
  }
  FUZZ_CHECK(failed == !all.has_value());
  if (all) {
    FUZZ_CHECK(*all == records);
    FUZZ_CHECK(whole.buffered() == pieces.buffered());
    for (const auto& r : *all) {
      // What encode() frames, a fresh decoder returns unchanged.
      etcdmesos::recordio::Decoder again(kMaxRecord);
      auto back = again.feed(etcdmesos::recordio::encode(r));
      FUZZ_CHECK(back && back->size() == 1 && back->front() == r);
    }
  }
  return 0;
}
