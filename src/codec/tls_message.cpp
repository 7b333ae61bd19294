#include "codec/tls_message.hpp"

#include "codec/json_read.hpp"

#include <algorithm>
#include <initializer_list>

namespace etcdmesos {

namespace {

using codec::json::object;

constexpr std::string_view kRequestType = "certificate-request";
constexpr std::string_view kGrantType = "certificate-grant";
constexpr std::string_view kRefusalType = "certificate-refusal";

// The longest prefix of `text` of at most `max` bytes that does not cut a
// UTF-8 character: a cut one would make the whole message invalid JSON.
std::string utf8_prefix(const std::string& text, std::size_t max) {
  if (text.size() <= max) {
    return text;
  }
  std::size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xc0) == 0x80) {
    --end;
  }
  return text.substr(0, end);
}

struct Encode {
  object operator()(const CertificateRequestMessage& m) const {
    return {{kTlsMessageTag, kRequestType},
            {"task_id", m.task_id},
            {"request_id", m.request_id},
            {"csr_pem", m.csr_pem}};
  }
  object operator()(const CertificateGrantMessage& m) const {
    return {{kTlsMessageTag, kGrantType},
            {"task_id", m.task_id},
            {"request_id", m.request_id},
            {"cert_pem", m.cert_pem},
            {"ca_pem", m.ca_pem}};
  }
  object operator()(const CertificateRefusalMessage& m) const {
    return {{kTlsMessageTag, kRefusalType},
            {"task_id", m.task_id},
            {"request_id", m.request_id},
            {"reason", utf8_prefix(m.reason, kMaxTlsReasonBytes)}};
  }
};

// A field this version does not know is refused, not skipped: it could
// carry a meaning (a chain, a key usage) this executor would silently miss.
void only_fields(codec::JsonReader& r, const object& o,
                 std::initializer_list<std::string_view> keys) {
  for (const auto& field : o) {
    const std::string_view key = field.key();
    if (key != kTlsMessageTag && std::find(keys.begin(), keys.end(), key) == keys.end()) {
      r.fail(key.substr(0, 64), "not a field of this message");
      return;
    }
  }
}

std::string read_text(codec::JsonReader& r, const object& o, std::string_view key,
                      std::size_t min_bytes, std::size_t max_bytes) {
  std::string text = codec::req_string(r, o, key);
  if (r.ok() && (text.size() < min_bytes || text.size() > max_bytes)) {
    r.fail(key, std::to_string(text.size()) + " bytes, " + std::to_string(min_bytes) + " to " +
                    std::to_string(max_bytes) + " are accepted");
  }
  return text;
}

// A positive JSON integer. Not a decimal string (the shared reader takes
// those for Mesos' sake): this format never writes one.
uint64_t read_request_id(codec::JsonReader& r, const object& o) {
  const codec::json::value* v = codec::find(o, "request_id");
  uint64_t id = 0;
  if (v == nullptr) {
    r.fail("request_id", "missing required integer");
    return 0;
  }
  if (const auto* u = v->if_uint64()) {
    id = *u;
  } else if (const auto* i = v->if_int64()) {
    id = *i > 0 ? static_cast<uint64_t>(*i) : 0;
  } else {
    r.fail("request_id", "expected an integer");
    return 0;
  }
  if (id == 0) {
    r.fail("request_id", "expected a positive integer");
  }
  return id;
}

std::string read_task_id(codec::JsonReader& r, const object& o) {
  return read_text(r, o, "task_id", 1, kMaxTlsTaskIdBytes);
}

TlsMessage read_request(codec::JsonReader& r, const object& o) {
  only_fields(r, o, {"task_id", "request_id", "csr_pem"});
  CertificateRequestMessage m;
  m.task_id = read_task_id(r, o);
  m.request_id = read_request_id(r, o);
  m.csr_pem = read_text(r, o, "csr_pem", 1, kMaxTlsPemBytes);
  return m;
}

TlsMessage read_grant(codec::JsonReader& r, const object& o) {
  only_fields(r, o, {"task_id", "request_id", "cert_pem", "ca_pem"});
  CertificateGrantMessage m;
  m.task_id = read_task_id(r, o);
  m.request_id = read_request_id(r, o);
  m.cert_pem = read_text(r, o, "cert_pem", 1, kMaxTlsPemBytes);
  m.ca_pem = read_text(r, o, "ca_pem", 1, kMaxTlsPemBytes);
  return m;
}

TlsMessage read_refusal(codec::JsonReader& r, const object& o) {
  only_fields(r, o, {"task_id", "request_id", "reason"});
  CertificateRefusalMessage m;
  m.task_id = read_task_id(r, o);
  m.request_id = read_request_id(r, o);
  m.reason = read_text(r, o, "reason", 0, kMaxTlsReasonBytes);
  return m;
}

}  // namespace

std::string encode_tls_message(const TlsMessage& message) {
  return codec::serialize(std::visit(Encode{}, message));
}

Result<TlsMessage> decode_tls_message(std::string_view text) {
  auto parsed = codec::parse_object(text, kMaxTlsMessageBytes, "TLS message");
  if (!parsed) {
    return parsed.error();
  }
  codec::JsonReader r("TLS message");
  const object& o = *parsed;
  if (!codec::has(o, kTlsMessageTag)) {
    return make_error("TLS message: no \"" + std::string(kTlsMessageTag) + "\" type tag");
  }
  const std::string type = codec::req_string(r, o, kTlsMessageTag);
  TlsMessage message;
  if (!r.ok()) {
    return r.error();
  } else if (type == kRequestType) {
    message = read_request(r, o);
  } else if (type == kGrantType) {
    message = read_grant(r, o);
  } else if (type == kRefusalType) {
    message = read_refusal(r, o);
  } else {
    r.fail(kTlsMessageTag, "unknown type '" + type.substr(0, 64) + "'");
  }
  if (!r.ok()) {
    return r.error();
  }
  return message;
}

}  // namespace etcdmesos
