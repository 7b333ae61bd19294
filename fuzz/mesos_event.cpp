// Mesos scheduler API events as the master sends them: decoding never
// throws; whatever decodes re-encodes to JSON that decodes to the same value.
#include "codec/mesos.hpp"
#include "fuzz_check.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::string_view json(reinterpret_cast<const char*>(data), size);
  auto event = etcdmesos::mesos::decode_event(json);
  if (event) {
    auto again = etcdmesos::mesos::decode_event(etcdmesos::mesos::encode(*event));
    FUZZ_CHECK(again && *again == *event);
  }
  return 0;
}
