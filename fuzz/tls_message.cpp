// The TLS certificate messages between executor and scheduler
// (codec/tls_message.hpp): decoding never throws; whatever decodes is
// within its limits, re-encodes, and decodes to the same message.
#include "codec/tls_message.hpp"
#include "fuzz_check.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <variant>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  using namespace etcdmesos;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto message = decode_tls_message(text);
  if (message) {
    std::visit(
        [](const auto& m) {
          FUZZ_CHECK(m.request_id > 0);
          FUZZ_CHECK(!m.task_id.empty() && m.task_id.size() <= kMaxTlsTaskIdBytes);
        },
        *message);
    auto again = decode_tls_message(encode_tls_message(*message));
    FUZZ_CHECK(again && *again == *message);
  }
  return 0;
}
