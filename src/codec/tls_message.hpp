// What the executor and the scheduler say to each other about a member's
// TLS certificate (issue 13 item 1).
//
// The executor makes a key and a CSR (pki/pki.hpp) and sends the CSR in an
// executor MESSAGE call (executor -> agent -> master -> scheduler); the
// scheduler answers with the signed certificate and the CA to trust, or with
// the reason it refused, in a framework MESSAGE (the reseed order's path,
// codec/reseed.hpp). request_id pairs an answer with the request: an
// executor that asked again drops the answer to an older request.
//
// Each message is one line of JSON that names its version-tagged type,
// {"etcd-mesos/tls":"certificate-request",...}: the reseed order is
// plain text starting with "etcd-mesos/reseed", so neither ever decodes as
// the other. A later version adds new type names; this one refuses them.
// Pure: no I/O, no OpenSSL (the PEM fields are checked by pki, not here).
// Decoding is strict and never throws.
#pragma once

#include "common/error.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace etcdmesos {

inline constexpr std::string_view kTlsMessageTag = "etcd-mesos/tls";
// Limits a decoder enforces (an encoder writes what it is given, except a
// refusal's reason, which it shortens to kMaxTlsReasonBytes).
inline constexpr std::size_t kMaxTlsMessageBytes = 64 * 1024;
inline constexpr std::size_t kMaxTlsPemBytes = 16 * 1024;  // as pki::kMaxPemBytes
inline constexpr std::size_t kMaxTlsTaskIdBytes = 256;
inline constexpr std::size_t kMaxTlsReasonBytes = 1024;

// executor -> scheduler: please sign this CSR for my task.
struct CertificateRequestMessage {
  std::string task_id;
  uint64_t request_id = 0;  // > 0
  std::string csr_pem;      // 1..kMaxTlsPemBytes
  bool operator==(const CertificateRequestMessage&) const = default;
};

// scheduler -> executor: the certificate for request_id, and the CA that
// members and clients trust.
struct CertificateGrantMessage {
  std::string task_id;
  uint64_t request_id = 0;
  std::string cert_pem;  // 1..kMaxTlsPemBytes
  std::string ca_pem;    // 1..kMaxTlsPemBytes
  bool operator==(const CertificateGrantMessage&) const = default;
};

// scheduler -> executor: request_id will not be signed, and why.
struct CertificateRefusalMessage {
  std::string task_id;
  uint64_t request_id = 0;
  std::string reason;  // 0..kMaxTlsReasonBytes of UTF-8
  bool operator==(const CertificateRefusalMessage&) const = default;
};

using TlsMessage =
    std::variant<CertificateRequestMessage, CertificateGrantMessage, CertificateRefusalMessage>;

std::string encode_tls_message(const TlsMessage& message);
// Error for anything that is not exactly one of these messages: another
// or no type tag, a missing, extra or null field, a field of another JSON
// type (request_id is a JSON integer, not a string), more than
// kMaxTlsMessageBytes in all, an empty or too long PEM field or task_id, a
// reason longer than kMaxTlsReasonBytes, request_id 0.
Result<TlsMessage> decode_tls_message(std::string_view text);

}  // namespace etcdmesos
