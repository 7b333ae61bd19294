// Member task data (TaskInfo.data, read by the executor): decoding never
// throws; whatever decodes is valid and round-trips.
#include "codec/task_data.hpp"
#include "fuzz_check.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::string_view json(reinterpret_cast<const char*>(data), size);
  auto decoded = etcdmesos::decode_member_task_data(json);
  if (decoded) {
    FUZZ_CHECK(decoded->peer_port >= 1 && decoded->peer_port <= 65535);
    FUZZ_CHECK(decoded->client_port >= 1 && decoded->client_port <= 65535);
    auto again = etcdmesos::decode_member_task_data(etcdmesos::encode(*decoded));
    FUZZ_CHECK(again && *again == *decoded);
  }
  return 0;
}
