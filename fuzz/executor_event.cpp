// Mesos executor API events (what the executor reads from its agent):
// decoding never throws; whatever decodes round-trips.
#include "codec/mesos.hpp"
#include "fuzz_check.hpp"
#include "json_same.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::string_view json(reinterpret_cast<const char*>(data), size);
  auto event = etcdmesos::mesos::decode_executor_event(json);
  if (event) {
    auto again = etcdmesos::mesos::decode_executor_event(etcdmesos::mesos::encode(*event));
    FUZZ_CHECK(again);
    // Exact, but for doubles that Boost 1.81 reads back one rounding step
    // away (json_same.hpp).
    FUZZ_CHECK(*again == *event || fuzz::same_json_text(etcdmesos::mesos::encode(*event),
                                                        etcdmesos::mesos::encode(*again)));
  }
  return 0;
}
