// Mesos executor API events (what the executor reads from its agent):
// decoding never throws; whatever decodes round-trips.
#include "codec/mesos.hpp"
#include "fuzz_check.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::string_view json(reinterpret_cast<const char*>(data), size);
  auto event = etcdmesos::mesos::decode_executor_event(json);
  if (event) {
    auto again = etcdmesos::mesos::decode_executor_event(etcdmesos::mesos::encode(*event));
    FUZZ_CHECK(again && *again == *event);
  }
  return 0;
}
