// The TLS certificate messages (codec/tls_message.hpp): each round-trips,
// is one line, and can never be taken for a reseed order or the other way
// round; anything that is not exactly one of them is refused with a reason.
#include "codec/tls_message.hpp"

#include "codec/reseed.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <string>

namespace etcdmesos {
namespace {

const std::string kPem =
    "-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n";

const CertificateRequestMessage kRequest{"etcd-1-a5d151a3", 7, kPem};
const CertificateGrantMessage kGrant{"etcd-1-a5d151a3", 7, "cert\n", "ca\n"};
const CertificateRefusalMessage kRefusal{"etcd-1-a5d151a3", 7,
                                         "CSR: the extension basicConstraints is not accepted"};

// The encoding of `message` with `key` set to the raw JSON `raw_value`, or
// removed when raw_value is empty.
std::string with(const TlsMessage& message, const std::string& key, const std::string& raw_value) {
  auto o = boost::json::parse(encode_tls_message(message)).as_object();
  if (raw_value.empty()) {
    o.erase(key);
  } else {
    o[key] = boost::json::parse(raw_value);
  }
  return boost::json::serialize(o);
}

std::string error_of(std::string_view text) {
  auto decoded = decode_tls_message(text);
  return decoded ? std::string("decoded") : decoded.error().message;
}

TEST(TlsMessage, EachMessageRoundTripsOnOneLine) {
  for (const TlsMessage& message :
       {TlsMessage{kRequest}, TlsMessage{kGrant}, TlsMessage{kRefusal}}) {
    const std::string text = encode_tls_message(message);
    EXPECT_EQ(text.find('\n'), std::string::npos) << text;
    auto decoded = decode_tls_message(text);
    ASSERT_TRUE(decoded) << decoded.error().message;
    EXPECT_EQ(*decoded, message);
  }
  EXPECT_EQ(
      encode_tls_message(kRequest),
      R"({"etcd-mesos/tls":"certificate-request","task_id":"etcd-1-a5d151a3","request_id":7,)"
      R"("csr_pem":"-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n"})");
  // Limits are inclusive, and a refusal may say nothing.
  const CertificateRequestMessage largest{std::string(kMaxTlsTaskIdBytes, 't'), UINT64_MAX,
                                          std::string(kMaxTlsPemBytes, 'p')};
  EXPECT_EQ(decode_tls_message(encode_tls_message(largest)).value(), TlsMessage{largest});
  const CertificateRefusalMessage silent{"t", 1, ""};
  EXPECT_EQ(decode_tls_message(encode_tls_message(silent)).value(), TlsMessage{silent});
}

TEST(TlsMessage, ALongReasonIsShortenedWithoutCuttingACharacter) {
  CertificateRefusalMessage refusal{"t", 1, std::string(kMaxTlsReasonBytes - 1, 'r') + "\xc3\xa9"};
  auto decoded = decode_tls_message(encode_tls_message(refusal));
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(std::get<CertificateRefusalMessage>(*decoded).reason,
            std::string(kMaxTlsReasonBytes - 1, 'r'));
}

TEST(TlsMessage, NeverTakenForAReseedOrderNorTheOtherWayRound) {
  const std::string order = encode_reseed_order({ReseedAction::kSeed, 7});
  EXPECT_NE(error_of(order).find("invalid JSON"), std::string::npos);
  for (const TlsMessage& message :
       {TlsMessage{kRequest}, TlsMessage{kGrant}, TlsMessage{kRefusal}}) {
    EXPECT_EQ(decode_reseed_order(encode_tls_message(message)), std::nullopt);
  }
}

TEST(TlsMessage, ATypeTagOtherThanOneOfTheThreeIsRefused) {
  EXPECT_NE(error_of(with(kRequest, "etcd-mesos/tls", "")).find("type tag"), std::string::npos);
  EXPECT_NE(error_of(with(kRequest, "etcd-mesos/tls", "null")).find("type tag"), std::string::npos);
  EXPECT_NE(error_of(with(kRequest, "etcd-mesos/tls", R"("certificate-renewal")"))
                .find("unknown type 'certificate-renewal'"),
            std::string::npos);
  EXPECT_NE(error_of(with(kRequest, "etcd-mesos/tls", "1")).find("expected a string"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"etcd-mesos/tls2":"certificate-request"})").find("type tag"),
            std::string::npos);
  // The fields of another type do not make it that type.
  EXPECT_NE(error_of(with(kGrant, "etcd-mesos/tls", R"("certificate-request")"))
                .find("not a field of this message"),
            std::string::npos);
  EXPECT_NE(error_of("[]").find("expected a JSON object"), std::string::npos);
  EXPECT_NE(error_of("").find("invalid JSON"), std::string::npos);
  EXPECT_NE(error_of(encode_tls_message(kRequest) + "{}").find("invalid JSON"), std::string::npos);
}

TEST(TlsMessage, MissingExtraAndMistypedFieldsAreRefused) {
  for (const char* key : {"task_id", "request_id", "csr_pem"}) {
    EXPECT_NE(error_of(with(kRequest, key, "")).find(std::string(key) + ": missing"),
              std::string::npos)
        << key;
    EXPECT_NE(error_of(with(kRequest, key, "null")).find(std::string(key) + ": missing"),
              std::string::npos)
        << key;
  }
  for (const char* key : {"cert_pem", "ca_pem"}) {
    EXPECT_NE(error_of(with(kGrant, key, "")).find(std::string(key) + ": missing"),
              std::string::npos);
  }
  EXPECT_NE(error_of(with(kRefusal, "reason", "")).find("reason: missing"), std::string::npos);
  EXPECT_NE(error_of(with(kRequest, "chain_pem", R"("x")")).find("chain_pem: not a field"),
            std::string::npos);
  EXPECT_NE(error_of(with(kRequest, "extra", "null")).find("extra: not a field"),
            std::string::npos);
  EXPECT_NE(error_of(with(kRequest, "task_id", "7")).find("task_id: expected a string"),
            std::string::npos);
  EXPECT_NE(error_of(with(kGrant, "ca_pem", "[]")).find("ca_pem: expected a string"),
            std::string::npos);
  // request_id is a positive JSON integer, not a string or a fraction.
  EXPECT_NE(
      error_of(with(kRequest, "request_id", R"("7")")).find("request_id: expected an integer"),
      std::string::npos);
  EXPECT_NE(error_of(with(kRequest, "request_id", "7.5")).find("request_id: expected an integer"),
            std::string::npos);
  EXPECT_NE(error_of(with(kRequest, "request_id", "0")).find("request_id: expected a positive"),
            std::string::npos);
  EXPECT_NE(error_of(with(kRequest, "request_id", "-3")).find("request_id: expected a positive"),
            std::string::npos);
  EXPECT_NE(error_of(with(kRequest, "request_id", "18446744073709551616")).find("request_id"),
            std::string::npos);
}

TEST(TlsMessage, EmptyAndOversizedFieldsAreRefused) {
  EXPECT_NE(error_of(with(kRequest, "task_id", R"("")")).find("task_id: 0 bytes"),
            std::string::npos);
  EXPECT_NE(
      error_of(with(kRequest, "task_id", "\"" + std::string(kMaxTlsTaskIdBytes + 1, 't') + "\""))
          .find("task_id: 257 bytes"),
      std::string::npos);
  EXPECT_NE(error_of(with(kRequest, "csr_pem", R"("")")).find("csr_pem: 0 bytes"),
            std::string::npos);
  EXPECT_NE(error_of(with(kRequest, "csr_pem", "\"" + std::string(kMaxTlsPemBytes + 1, 'p') + "\""))
                .find("csr_pem: 16385 bytes"),
            std::string::npos);
  EXPECT_NE(error_of(with(kGrant, "cert_pem", R"("")")).find("cert_pem: 0 bytes"),
            std::string::npos);
  EXPECT_NE(error_of(with(kGrant, "ca_pem", "\"" + std::string(kMaxTlsPemBytes + 1, 'p') + "\""))
                .find("ca_pem: 16385 bytes"),
            std::string::npos);
  EXPECT_NE(
      error_of(with(kRefusal, "reason", "\"" + std::string(kMaxTlsReasonBytes + 1, 'r') + "\""))
          .find("reason: 1025 bytes"),
      std::string::npos);
  // The whole message is bounded before it is parsed.
  const std::string huge =
      with(kRequest, "csr_pem", "\"" + std::string(kMaxTlsMessageBytes, 'p') + "\"");
  EXPECT_NE(error_of(huge).find("exceed the limit of 65536"), std::string::npos);
}

}  // namespace
}  // namespace etcdmesos
