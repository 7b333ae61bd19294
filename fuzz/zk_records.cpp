// What the scheduler reads from ZooKeeper: the leading master's MasterInfo
// (written by Mesos masters) and its own framework-id and task records. The
// first byte picks the decoder. Decoding never throws; records round-trip.
#include "codec/mesos.hpp"
#include "codec/persisted_state.hpp"
#include "fuzz_check.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  namespace persisted = etcdmesos::persisted;
  switch (data[0] % 3) {
    case 0: {
      auto info = etcdmesos::mesos::decode_master_info(text);
      if (info) {
        auto again = etcdmesos::mesos::decode_master_info(etcdmesos::mesos::encode(*info));
        FUZZ_CHECK(again && *again == *info);
      }
      break;
    }
    case 1: {
      auto record = persisted::decode_framework_id_record(text);
      if (record) {
        auto again = persisted::decode_framework_id_record(persisted::encode(*record));
        FUZZ_CHECK(again && *again == *record);
      }
      break;
    }
    default: {
      auto record = persisted::decode_task_record(text);
      if (record) {
        auto again = persisted::decode_task_record(persisted::encode(*record));
        FUZZ_CHECK(again && *again == *record);
      }
      break;
    }
  }
  return 0;
}
