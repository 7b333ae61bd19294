// etcd 3.4 gateway answers (src/codec/etcd.hpp): the first byte picks the
// decoder, the rest is the body. Decoding never throws or crashes.
#include "codec/etcd.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  const std::string_view json(reinterpret_cast<const char*>(data) + 1, size - 1);
  namespace etcd = etcdmesos::etcd;
  switch (data[0] % 7) {
    case 0:
      (void)etcd::decode_member_list(json);
      break;
    case 1:
      (void)etcd::decode_member_add(json);
      break;
    case 2:
      (void)etcd::decode_status(json);
      break;
    case 3:
      (void)etcd::decode_put(json);
      break;
    case 4:
      (void)etcd::decode_range(json);
      break;
    case 5:
      (void)etcd::decode_alarms(json);
      break;
    default:
      (void)etcd::decode_error(json);
      break;
  }
  return 0;
}
