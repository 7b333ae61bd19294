// The reseed order an executor receives as a framework message
// (codec/reseed.hpp): decoding never throws; whatever decodes is
// exactly what encode() writes for it.
#include "codec/reseed.hpp"
#include "fuzz_check.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto order = etcdmesos::decode_reseed_order(text);
  if (order) {
    auto again = etcdmesos::decode_reseed_order(etcdmesos::encode_reseed_order(*order));
    FUZZ_CHECK(again && *again == *order);
  }
  return 0;
}
