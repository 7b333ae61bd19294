// The certificate machinery of a TLS cluster (pki/pki.hpp) with real
// OpenSSL: a CSR made by make_request reads back as asked; what the CA signs
// names only what the CSR may ask for, chains to the CA for serving and for
// client use, and is never a CA itself; every CSR a member must not get
// signed is refused, with a message saying why; a CA that cannot sign is
// refused when loaded.
#include "pki/pki.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace etcdmesos::pki {
namespace {

using namespace std::chrono_literals;
using std::chrono::system_clock;

// A fixed "now" at a whole second: nothing here reads the clock.
const system_clock::time_point kNow =
    std::chrono::sys_days{std::chrono::year{2030} / 1 / 15} + std::chrono::hours{12};
constexpr std::chrono::seconds kDay = std::chrono::hours(24);

template <auto Free>
struct Deleter {
  template <class T>
  void operator()(T* p) const {
    Free(p);
  }
};
using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free_all>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using ReqPtr = std::unique_ptr<X509_REQ, Deleter<X509_REQ_free>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using StorePtr = std::unique_ptr<X509_STORE, Deleter<X509_STORE_free>>;
using StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, Deleter<X509_STORE_CTX_free>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION_free>>;
struct ExtensionsFree {
  void operator()(STACK_OF(X509_EXTENSION) * s) const {
    sk_X509_EXTENSION_pop_free(s, X509_EXTENSION_free);
  }
};

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(length));
}

X509Ptr cert_of(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

PkeyPtr key_of(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return PkeyPtr(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
}

std::string pem_of(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert);
  return bio_text(bio.get());
}

std::string pem_of(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  return bio_text(bio.get());
}

PkeyPtr new_key(const std::string& kind) {
  if (kind == "RSA-1024") {
    return PkeyPtr(EVP_RSA_gen(1024));
  }
  if (kind == "RSA-2048") {
    return PkeyPtr(EVP_RSA_gen(2048));
  }
  return PkeyPtr(EVP_EC_gen(kind.c_str()));
}

// A CSR built by hand, to ask for what make_request never would.
struct CsrSpec {
  std::vector<std::pair<std::string, std::string>> subject{{"CN", "member-1"}};
  std::vector<std::pair<int, std::string>> extensions{};  // OpenSSL config syntax
  std::string key = "P-256";
  const EVP_MD* digest = EVP_sha256();
  bool challenge_password = false;
};

std::string build_csr(const CsrSpec& spec) {
  PkeyPtr key = new_key(spec.key);
  ReqPtr req(X509_REQ_new());
  X509_REQ_set_version(req.get(), X509_REQ_VERSION_1);
  X509_NAME* name = X509_REQ_get_subject_name(req.get());
  for (const auto& [field, value] : spec.subject) {
    EXPECT_EQ(X509_NAME_add_entry_by_txt(name, field.c_str(), MBSTRING_UTF8,
                                         reinterpret_cast<const unsigned char*>(value.data()),
                                         static_cast<int>(value.size()), -1, 0),
              1);
  }
  X509_REQ_set_pubkey(req.get(), key.get());
  if (!spec.extensions.empty()) {
    std::unique_ptr<STACK_OF(X509_EXTENSION), ExtensionsFree> extensions(
        sk_X509_EXTENSION_new_null());
    X509V3_CTX context{};
    X509V3_set_ctx(&context, nullptr, nullptr, req.get(), nullptr, 0);
    for (const auto& [nid, value] : spec.extensions) {
      X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value.c_str());
      EXPECT_NE(extension, nullptr) << value;
      sk_X509_EXTENSION_push(extensions.get(), extension);
    }
    X509_REQ_add_extensions(req.get(), extensions.get());
  }
  if (spec.challenge_password) {
    X509_REQ_add1_attr_by_NID(req.get(), NID_pkcs9_challengePassword, MBSTRING_ASC,
                              reinterpret_cast<const unsigned char*>("secret"), -1);
  }
  EXPECT_GT(X509_REQ_sign(req.get(), key.get(), spec.digest), 0);
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509_REQ(bio.get(), req.get());
  return bio_text(bio.get());
}

// A self-signed certificate built by hand, with the extensions given (the
// CAs an operator might bring, good and bad).
Issued self_signed(const std::string& key_kind,
                   const std::vector<std::pair<int, std::string>>& ext) {
  PkeyPtr key = new_key(key_kind);
  X509Ptr cert(X509_new());
  X509_set_version(cert.get(), X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("operator CA"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509_set_pubkey(cert.get(), key.get());
  ASN1_TIME_set(X509_getm_notBefore(cert.get()), system_clock::to_time_t(kNow - 365 * kDay));
  ASN1_TIME_set(X509_getm_notAfter(cert.get()), system_clock::to_time_t(kNow + 365 * kDay));
  X509V3_CTX context{};
  X509V3_set_ctx(&context, cert.get(), cert.get(), nullptr, nullptr, 0);
  for (const auto& [nid, value] : ext) {
    ExtPtr extension(X509V3_EXT_conf_nid(nullptr, &context, nid, value.c_str()));
    EXPECT_TRUE(extension) << value;
    X509_add_ext(cert.get(), extension.get(), -1);
  }
  EXPECT_GT(X509_sign(cert.get(), key.get(), EVP_sha256()), 0);
  return Issued{pem_of(key.get()), pem_of(cert.get())};
}

// The DER inside a PEM block, and back: to change a CSR after it was signed.
std::string der_of(const std::string& pem) {
  BioPtr in(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  char* name = nullptr;
  char* header = nullptr;
  unsigned char* data = nullptr;
  long length = 0;
  EXPECT_EQ(PEM_read_bio(in.get(), &name, &header, &data, &length), 1);
  std::string der(reinterpret_cast<const char*>(data), static_cast<std::size_t>(length));
  OPENSSL_free(name);
  OPENSSL_free(header);
  OPENSSL_free(data);
  return der;
}

std::string csr_pem_of(const std::string& der) {
  BioPtr out(BIO_new(BIO_s_mem()));
  PEM_write_bio(out.get(), "CERTIFICATE REQUEST", "",
                reinterpret_cast<const unsigned char*>(der.data()), static_cast<long>(der.size()));
  return bio_text(out.get());
}

// The CSR with `from` replaced by `to` (same length) in its DER.
std::string tamper(const std::string& pem, const std::string& from, const std::string& to) {
  std::string der = der_of(pem);
  const auto at = der.find(from);
  EXPECT_NE(at, std::string::npos);
  der.replace(at, from.size(), to);
  return csr_pem_of(der);
}

// X509_verify_cert of `cert_pem` against a store holding only the CA, at
// `at`, for `purpose`: X509_V_OK or the verifier's error.
int verify(const std::string& cert_pem, const Authority& ca, int purpose,
           system_clock::time_point at = kNow) {
  X509Ptr cert = cert_of(cert_pem);
  X509Ptr root = cert_of(ca.cert_pem());
  StorePtr store(X509_STORE_new());
  X509_STORE_add_cert(store.get(), root.get());
  StoreCtxPtr context(X509_STORE_CTX_new());
  X509_STORE_CTX_init(context.get(), store.get(), cert.get(), nullptr);
  X509_STORE_CTX_set_purpose(context.get(), purpose);
  X509_STORE_CTX_set_time(context.get(), 0, system_clock::to_time_t(at));
  const int verified = X509_verify_cert(context.get());
  const int error = X509_STORE_CTX_get_error(context.get());
  return verified == 1 ? X509_V_OK : (error == X509_V_OK ? -1 : error);
}

Authority test_ca() {
  auto issued = make_ca("etcd-mesos test CA", 3650 * kDay, kNow - kDay);
  EXPECT_TRUE(issued) << issued.error().message;
  auto ca = Authority::load(issued->cert_pem, issued->key_pem);
  EXPECT_TRUE(ca) << ca.error().message;
  return *ca;
}

std::string error_of(const Result<RequestInfo>& r) {
  return r ? std::string("accepted") : r.error().message;
}

TEST(PkiRequest, WhatMakeRequestAsksForReadsBack) {
  auto made = make_request("member-1", {"10.0.0.5", "2001:DB8:0:0::1", "::ffff:10.1.2.3"},
                           {"etcd-1.example.com", "localhost"});
  ASSERT_TRUE(made) << made.error().message;
  EXPECT_TRUE(made->csr_pem.starts_with("-----BEGIN CERTIFICATE REQUEST-----\n"));
  EXPECT_TRUE(made->key_pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
  auto info = read_request(made->csr_pem);
  ASSERT_TRUE(info) << info.error().message;
  // Addresses come back in canonical text.
  EXPECT_EQ(*info, (RequestInfo{"member-1",
                                {"10.0.0.5", "2001:db8::1", "::ffff:10.1.2.3"},
                                {"etcd-1.example.com", "localhost"}}));

  auto bare = make_request("scheduler", {}, {});
  ASSERT_TRUE(bare) << bare.error().message;
  EXPECT_EQ(read_request(bare->csr_pem).value(), (RequestInfo{"scheduler", {}, {}}));
  // A UTF-8 name with no control character is a name.
  auto utf8 = make_request("m\xc3\xa9mbre", {}, {});
  ASSERT_TRUE(utf8) << utf8.error().message;
  EXPECT_EQ(read_request(utf8->csr_pem).value().common_name, "m\xc3\xa9mbre");
}

TEST(PkiRequest, MakeRequestRefusesWhatIsNotAnAddressOrAName) {
  EXPECT_FALSE(make_request("m", {"10.0.0"}, {}));
  EXPECT_FALSE(make_request("m", {"etcd-1.example.com"}, {}));
  EXPECT_FALSE(make_request("m", {"fe80::1%eth0"}, {}));
  EXPECT_FALSE(make_request("m", {"10.0.0.1:2379"}, {}));
  EXPECT_FALSE(make_request("m", {std::string("10.0.0.1\0x", 10)}, {}));
  EXPECT_FALSE(make_request("m", {}, {"*.example.com"}));
  EXPECT_FALSE(make_request("m", {}, {"a,IP:10.0.0.1"}));
  EXPECT_FALSE(make_request("m", {}, {"-bad.example"}));
  EXPECT_FALSE(make_request("m", {}, {""}));
  EXPECT_FALSE(make_request("", {}, {}));
  EXPECT_FALSE(make_request(std::string(65, 'm'), {}, {}));
  EXPECT_TRUE(make_request(std::string(64, 'm'), {}, {}));
  EXPECT_FALSE(make_request("a\nb", {}, {}));
  EXPECT_FALSE(make_request("\xc3", {}, {}));  // a cut UTF-8 character
  EXPECT_FALSE(
      make_request("m", std::vector<std::string>(kMaxSubjectAltNames + 1, "10.0.0.1"), {}));
  const auto error = make_request("m", {"10.0.0"}, {}).error().message;
  EXPECT_NE(error.find("'10.0.0' is not an IPv4 or IPv6 address"), std::string::npos) << error;
}

TEST(PkiRequest, ARenewalAsksWithTheSameKey) {
  const Authority ca = test_ca();
  auto key = make_key();
  ASSERT_TRUE(key) << key.error().message;
  std::vector<std::string> certs;
  for (int i = 0; i < 2; ++i) {
    auto csr = make_request_for_key(*key, "member-1", {"10.0.0.5"}, {});
    ASSERT_TRUE(csr) << csr.error().message;
    auto cert = ca.sign(*csr, kDay, kNow + i * kDay);
    ASSERT_TRUE(cert) << cert.error().message;
    EXPECT_TRUE(certificate_matches_key(*cert, *key));
    certs.push_back(*cert);
  }
  EXPECT_NE(certs[0], certs[1]);
  auto other = make_request("member-1", {"10.0.0.5"}, {});
  ASSERT_TRUE(other);
  const auto mismatch = certificate_matches_key(certs[0], other->key_pem);
  ASSERT_FALSE(mismatch);
  EXPECT_NE(mismatch.error().message.find("another public key"), std::string::npos);
  EXPECT_FALSE(certificate_matches_key("garbage", *key));
  EXPECT_FALSE(certificate_matches_key(certs[0], "garbage"));
  // An RSA key of 2048 bits is a key the scheduler takes; 1024 bits is not.
  PkeyPtr rsa = new_key("RSA-2048");
  auto rsa_csr = make_request_for_key(pem_of(rsa.get()), "member-1", {}, {});
  ASSERT_TRUE(rsa_csr) << rsa_csr.error().message;
  EXPECT_TRUE(read_request(*rsa_csr));
  PkeyPtr weak = new_key("RSA-1024");
  const auto weak_csr = make_request_for_key(pem_of(weak.get()), "member-1", {}, {});
  ASSERT_FALSE(weak_csr);
  EXPECT_NE(weak_csr.error().message.find("key: an RSA key of 1024 bits"), std::string::npos)
      << weak_csr.error().message;
  EXPECT_FALSE(make_request_for_key("garbage", "member-1", {}, {}));
}

TEST(PkiRequest, ACsrAskingToBeACaIsRefused) {
  const auto csr = build_csr({.extensions = {{NID_basic_constraints, "critical,CA:TRUE"}}});
  const auto error = error_of(read_request(csr));
  EXPECT_NE(error.find("basicConstraints is not accepted"), std::string::npos) << error;
  const Authority ca = test_ca();
  EXPECT_FALSE(ca.sign(csr, kDay, kNow));
}

TEST(PkiRequest, ExtensionsAttributesAndNamesOtherThanIpAndDnsAreRefused) {
  // The hand-built CSR with only a subjectAltName passes: the refusals below
  // are about what was added, not about the builder.
  EXPECT_EQ(error_of(read_request(
                build_csr({.extensions = {{NID_subject_alt_name, "IP:10.0.0.1,DNS:a.example"}}}))),
            "accepted");
  EXPECT_NE(
      error_of(read_request(build_csr({.extensions = {{NID_key_usage, "critical,keyCertSign"}}})))
          .find("keyUsage is not accepted"),
      std::string::npos);
  EXPECT_NE(error_of(read_request(build_csr({.extensions = {{NID_ext_key_usage, "codeSigning"}}})))
                .find("extendedKeyUsage is not accepted"),
            std::string::npos);
  EXPECT_NE(error_of(read_request(build_csr({.extensions = {{NID_subject_alt_name,
                                                             "IP:10.0.0.1,email:a@b.example"}}})))
                .find("only IP and DNS"),
            std::string::npos);
  EXPECT_NE(error_of(read_request(build_csr(
                         {.extensions = {{NID_subject_alt_name, "URI:https://a.example"}}})))
                .find("only IP and DNS"),
            std::string::npos);
  EXPECT_NE(error_of(read_request(build_csr({.extensions = {{NID_subject_alt_name, "DNS:*.a.b"}}})))
                .find("DNS name"),
            std::string::npos);
  EXPECT_NE(
      error_of(read_request(build_csr({.extensions = {{NID_subject_alt_name, "IP:10.0.0.1"},
                                                      {NID_subject_alt_name, "IP:10.0.0.2"}}})))
          .find("more than one subjectAltName"),
      std::string::npos);
  EXPECT_NE(error_of(read_request(build_csr({.challenge_password = true})))
                .find("challengePassword is not accepted"),
            std::string::npos);
}

TEST(PkiRequest, TheSubjectIsOneCnWithoutControlCharacters) {
  EXPECT_NE(error_of(read_request(build_csr({.subject = {}}))).find("no CN"), std::string::npos);
  EXPECT_NE(error_of(read_request(build_csr({.subject = {{"O", "org"}}})))
                .find("one CN and nothing else"),
            std::string::npos);
  EXPECT_NE(error_of(read_request(build_csr({.subject = {{"O", "org"}, {"CN", "member-1"}}})))
                .find("one CN and nothing else"),
            std::string::npos);
  EXPECT_NE(error_of(read_request(build_csr({.subject = {{"CN", "member\x01"}}})))
                .find("control character"),
            std::string::npos);
  EXPECT_NE(error_of(read_request(build_csr({.subject = {{"CN", "member\xc2\x85"}}})))
                .find("control character"),
            std::string::npos);
}

TEST(PkiRequest, OnlyP256AndRsaFrom2048BitsSignedWithSha2AreAccepted) {
  EXPECT_EQ(error_of(read_request(build_csr({.key = "RSA-2048"}))), "accepted");
  EXPECT_EQ(error_of(read_request(build_csr({.key = "P-256", .digest = EVP_sha384()}))),
            "accepted");
  EXPECT_NE(error_of(read_request(build_csr({.key = "RSA-1024"}))).find("1024 bits"),
            std::string::npos);
  EXPECT_NE(error_of(read_request(build_csr({.key = "P-384"}))).find("only P-256"),
            std::string::npos);
  EXPECT_NE(error_of(read_request(build_csr({.digest = EVP_sha1()}))).find("ecdsa-with-SHA1"),
            std::string::npos);
}

TEST(PkiRequest, ACsrChangedAfterItWasSignedIsRefused) {
  auto made = make_request("member-1", {"10.0.0.5"}, {});
  ASSERT_TRUE(made);
  const auto forged = tamper(made->csr_pem, "member-1", "member-2");
  ASSERT_NE(forged, made->csr_pem);
  const auto error = error_of(read_request(forged));
  EXPECT_NE(error.find("signature does not verify"), std::string::npos) << error;
  const auto forged_ip =
      tamper(made->csr_pem, std::string("\x0a\x00\x00\x05", 4), std::string("\x0a\x00\x00\x06", 4));
  EXPECT_FALSE(read_request(forged_ip));
  EXPECT_FALSE(test_ca().sign(forged, kDay, kNow));
}

TEST(PkiRequest, AnythingButExactlyOneCsrIsRefused) {
  auto made = make_request("member-1", {"10.0.0.5"}, {});
  ASSERT_TRUE(made);
  const std::string& csr = made->csr_pem;
  EXPECT_TRUE(read_request("\n " + csr + "\r\n\n"));  // blanks around it are fine
  EXPECT_FALSE(read_request(""));
  EXPECT_FALSE(read_request("garbage"));
  EXPECT_FALSE(read_request(std::string(1000, '\0')));
  EXPECT_NE(error_of(read_request(csr + csr)).find("more than one PEM block"), std::string::npos);
  EXPECT_FALSE(read_request("junk\n" + csr));
  EXPECT_FALSE(read_request(csr + "junk\n"));
  EXPECT_FALSE(read_request(csr.substr(0, csr.size() / 2)));
  const std::string padded = csr + std::string(kMaxPemBytes, '\n');
  EXPECT_NE(error_of(read_request(padded)).find("exceed the limit"), std::string::npos);
  std::string non_ascii = csr;
  non_ascii[40] = '\xff';
  EXPECT_NE(error_of(read_request(non_ascii)).find("not PEM text"), std::string::npos);
  // A certificate is not a request, even a valid one.
  EXPECT_FALSE(read_request(test_ca().cert_pem()));
  // Bytes after the request's DER.
  EXPECT_TRUE(read_request(csr_pem_of(der_of(csr))));
  EXPECT_NE(error_of(read_request(csr_pem_of(der_of(csr) + std::string(1, '\0'))))
                .find("bytes after the DER"),
            std::string::npos);
  // PEM headers: an encrypted block.
  std::string header = csr;
  header.insert(header.find('\n') + 1, "Proc-Type: 4,ENCRYPTED\n\n");
  EXPECT_FALSE(read_request(header));
}

TEST(PkiSign, TheCertificateNamesWhatTheCsrAskedAndChainsToTheCa) {
  const Authority ca = test_ca();
  auto made = make_request("member-1", {"10.0.0.5", "2001:db8::7"}, {"etcd-1.example.com"});
  ASSERT_TRUE(made);
  auto cert_pem = ca.sign(made->csr_pem, 30 * kDay, kNow);
  ASSERT_TRUE(cert_pem) << cert_pem.error().message;
  auto info = read_certificate(*cert_pem);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->common_name, "member-1");
  EXPECT_EQ(info->ip_sans, (std::vector<std::string>{"10.0.0.5", "2001:db8::7"}));
  EXPECT_EQ(info->dns_sans, (std::vector<std::string>{"etcd-1.example.com"}));
  EXPECT_EQ(info->not_before, kNow - 5min);
  EXPECT_EQ(info->not_after, kNow + 30 * kDay);

  EXPECT_EQ(verify(*cert_pem, ca, X509_PURPOSE_SSL_SERVER), X509_V_OK);
  EXPECT_EQ(verify(*cert_pem, ca, X509_PURPOSE_SSL_CLIENT), X509_V_OK);
  // A peer whose clock is 4 minutes behind accepts it; after notAfter nobody does.
  EXPECT_EQ(verify(*cert_pem, ca, X509_PURPOSE_SSL_SERVER, kNow - 4min), X509_V_OK);
  EXPECT_EQ(verify(*cert_pem, ca, X509_PURPOSE_SSL_SERVER, kNow + 30 * kDay + 1s),
            X509_V_ERR_CERT_HAS_EXPIRED);
  // Not for anything else it was not made for.
  EXPECT_NE(verify(*cert_pem, ca, X509_PURPOSE_SMIME_SIGN), X509_V_OK);
  // Another CA does not vouch for it.
  EXPECT_NE(verify(*cert_pem, test_ca(), X509_PURPOSE_SSL_SERVER), X509_V_OK);

  X509Ptr cert = cert_of(*cert_pem);
  EXPECT_EQ(X509_get_version(cert.get()), X509_VERSION_3);
  EXPECT_EQ(X509_get_signature_nid(cert.get()), NID_ecdsa_with_SHA256);
  // The CA's key is not in the certificate, the member's is.
  PkeyPtr member_key = key_of(made->key_pem);
  EXPECT_EQ(X509_check_private_key(cert.get(), member_key.get()), 1);
  // Two signatures of one CSR get different random serials.
  X509Ptr again = cert_of(ca.sign(made->csr_pem, 30 * kDay, kNow).value());
  EXPECT_NE(
      ASN1_INTEGER_cmp(X509_get0_serialNumber(cert.get()), X509_get0_serialNumber(again.get())), 0);
}

TEST(PkiSign, TheCertificateIsNeverACaAndCarriesTheFixedExtensions) {
  const Authority ca = test_ca();
  auto made = make_request("member-1", {"10.0.0.5"}, {});
  ASSERT_TRUE(made);
  X509Ptr cert = cert_of(ca.sign(made->csr_pem, kDay, kNow).value());
  ASSERT_TRUE(cert);
  EXPECT_EQ(X509_check_ca(cert.get()), 0);
  const uint32_t flags = X509_get_extension_flags(cert.get());
  EXPECT_EQ(flags & EXFLAG_CA, 0u);
  EXPECT_NE(flags & EXFLAG_BCONS, 0u);
  EXPECT_EQ(X509_get_key_usage(cert.get()),
            static_cast<uint32_t>(KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT));
  EXPECT_EQ(X509_get_extended_key_usage(cert.get()),
            static_cast<uint32_t>(XKU_SSL_SERVER | XKU_SSL_CLIENT));
  for (int nid : {NID_basic_constraints, NID_key_usage}) {
    const int at = X509_get_ext_by_NID(cert.get(), nid, -1);
    ASSERT_GE(at, 0);
    EXPECT_EQ(X509_EXTENSION_get_critical(X509_get_ext(cert.get(), at)), 1) << OBJ_nid2sn(nid);
  }
  EXPECT_NE(X509_get0_subject_key_id(cert.get()), nullptr);
  X509Ptr root = cert_of(ca.cert_pem());
  ASSERT_NE(X509_get0_authority_key_id(cert.get()), nullptr);
  EXPECT_EQ(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(cert.get()),
                                  X509_get0_subject_key_id(root.get())),
            0);
  EXPECT_EQ(X509_get_ext_count(cert.get()), 6);
}

TEST(PkiSign, ValidityAndTheCaOwnWindowAreChecked) {
  const Authority ca = test_ca();  // valid from kNow - 1 day - 5 min for 10 years
  auto made = make_request("member-1", {}, {});
  ASSERT_TRUE(made);
  EXPECT_FALSE(ca.sign(made->csr_pem, 0s, kNow));
  EXPECT_FALSE(ca.sign(made->csr_pem, kMaxValidity + 1s, kNow));
  EXPECT_TRUE(ca.sign(made->csr_pem, kMaxValidity, kNow));
  const auto late = ca.sign(made->csr_pem, kDay, kNow + 3650 * kDay);
  ASSERT_FALSE(late);
  EXPECT_NE(late.error().message.find("CA certificate is not valid at 2040-01-13T12:00:00Z"),
            std::string::npos)
      << late.error().message;
  EXPECT_FALSE(ca.sign(made->csr_pem, kDay, kNow - 2 * kDay));
}

TEST(PkiSign, AnRsaCaWithoutKeyIdentifiersSignsToo) {
  const Issued rsa = self_signed("RSA-2048", {{NID_basic_constraints, "critical,CA:TRUE"},
                                              {NID_key_usage, "critical,keyCertSign,cRLSign"}});
  auto ca = Authority::load(rsa.cert_pem, rsa.key_pem);
  ASSERT_TRUE(ca) << ca.error().message;
  auto made = make_request("member-1", {"10.0.0.5"}, {});
  ASSERT_TRUE(made);
  auto cert = ca->sign(made->csr_pem, kDay, kNow);
  ASSERT_TRUE(cert) << cert.error().message;
  EXPECT_EQ(verify(*cert, *ca, X509_PURPOSE_SSL_SERVER), X509_V_OK);
  EXPECT_EQ(X509_get_signature_nid(cert_of(*cert).get()), NID_sha256WithRSAEncryption);
}

TEST(PkiAuthority, IssueGivesAKeyThatMatchesItsCertificate) {
  const Authority ca = test_ca();
  auto issued = ca.issue("etcd-mesos-scheduler", {"127.0.0.1"}, {}, kDay, kNow);
  ASSERT_TRUE(issued) << issued.error().message;
  X509Ptr cert = cert_of(issued->cert_pem);
  PkeyPtr key = key_of(issued->key_pem);
  ASSERT_TRUE(cert && key);
  EXPECT_EQ(X509_check_private_key(cert.get(), key.get()), 1);
  EXPECT_EQ(verify(issued->cert_pem, ca, X509_PURPOSE_SSL_CLIENT), X509_V_OK);
  EXPECT_EQ(read_certificate(issued->cert_pem).value().common_name, "etcd-mesos-scheduler");
  // And another key does not.
  auto other = ca.issue("etcd-mesos-scheduler", {}, {}, kDay, kNow);
  ASSERT_TRUE(other);
  EXPECT_NE(X509_check_private_key(cert.get(), key_of(other->key_pem).get()), 1);
  EXPECT_FALSE(ca.issue("bad\nname", {}, {}, kDay, kNow));
}

TEST(PkiAuthority, OnlyACaWithItsOwnUnencryptedKeyLoads) {
  auto issued_ca = make_ca("operator CA", 3650 * kDay, kNow);
  ASSERT_TRUE(issued_ca);
  ASSERT_TRUE(Authority::load(issued_ca->cert_pem, issued_ca->key_pem));

  // A member's certificate is not a CA.
  const Authority ca = test_ca();
  auto leaf = ca.issue("member-1", {}, {}, kDay, kNow);
  ASSERT_TRUE(leaf);
  auto not_ca = Authority::load(leaf->cert_pem, leaf->key_pem);
  ASSERT_FALSE(not_ca);
  EXPECT_NE(not_ca.error().message.find("CA certificate: it is not a CA"), std::string::npos)
      << not_ca.error().message;

  // The key of another certificate.
  auto mismatched = Authority::load(issued_ca->cert_pem, leaf->key_pem);
  ASSERT_FALSE(mismatched);
  EXPECT_NE(mismatched.error().message.find("CA key: it does not match"), std::string::npos)
      << mismatched.error().message;

  // An encrypted key, PKCS#8 and traditional: refused without a prompt.
  PkeyPtr key = key_of(issued_ca->key_pem);
  BioPtr pkcs8(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(pkcs8.get(), key.get(), EVP_aes_256_cbc(), nullptr, 0, nullptr,
                           const_cast<char*>("passphrase"));
  auto encrypted = Authority::load(issued_ca->cert_pem, bio_text(pkcs8.get()));
  ASSERT_FALSE(encrypted);
  EXPECT_NE(encrypted.error().message.find("CA key: the key is encrypted"), std::string::npos)
      << encrypted.error().message;
  BioPtr traditional(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey_traditional(traditional.get(), key.get(), EVP_aes_128_cbc(), nullptr, 0,
                                       nullptr, const_cast<char*>("passphrase"));
  ASSERT_NE(bio_text(traditional.get()).find("Proc-Type: 4,ENCRYPTED"), std::string::npos);
  EXPECT_NE(Authority::load(issued_ca->cert_pem, bio_text(traditional.get()))
                .error()
                .message.find("encrypted"),
            std::string::npos);

  // A CA whose keyUsage does not allow signing certificates.
  const Issued no_cert_sign = self_signed("P-256", {{NID_basic_constraints, "critical,CA:TRUE"},
                                                    {NID_key_usage, "critical,digitalSignature"}});
  auto refused = Authority::load(no_cert_sign.cert_pem, no_cert_sign.key_pem);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("keyCertSign"), std::string::npos);
  // A self-signed certificate without basicConstraints (OpenSSL would take
  // a v1 one as a CA) is not one.
  const Issued plain = self_signed("P-256", {});
  EXPECT_NE(Authority::load(plain.cert_pem, plain.key_pem).error().message.find("not a CA"),
            std::string::npos);

  // Garbage and swapped arguments.
  EXPECT_NE(Authority::load("garbage", issued_ca->key_pem)
                .error()
                .message.find("CA certificate: expected one PEM block"),
            std::string::npos);
  EXPECT_NE(Authority::load(issued_ca->cert_pem, "garbage").error().message.find("CA key"),
            std::string::npos);
  EXPECT_FALSE(Authority::load(issued_ca->key_pem, issued_ca->cert_pem));
}

TEST(PkiAuthority, AKeyFileWithEcParametersFirstLoads) {
  // `openssl ecparam -genkey` writes an EC PARAMETERS block before the key.
  auto issued_ca = make_ca("operator CA", 3650 * kDay, kNow);
  ASSERT_TRUE(issued_ca);
  PkeyPtr key = key_of(issued_ca->key_pem);
  BioPtr traditional(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey_traditional(traditional.get(), key.get(), nullptr, nullptr, 0, nullptr,
                                       nullptr);
  const std::string with_parameters =
      "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n" +
      bio_text(traditional.get());
  auto ca = Authority::load(issued_ca->cert_pem, with_parameters);
  EXPECT_TRUE(ca) << ca.error().message;
}

TEST(PkiAuthority, LoadFilesSaysWhichFile) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("etcdmesos_pki_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto issued_ca = make_ca("operator CA", 3650 * kDay, kNow);
  ASSERT_TRUE(issued_ca);
  std::ofstream(dir / "ca.pem") << issued_ca->cert_pem;
  std::ofstream(dir / "ca-key.pem") << issued_ca->key_pem;
  std::ofstream(dir / "big.pem") << std::string(kMaxPemBytes + 1, '\n');
  auto ca = Authority::load_files(dir / "ca.pem", dir / "ca-key.pem");
  ASSERT_TRUE(ca) << ca.error().message;
  EXPECT_EQ(ca->cert_pem(), issued_ca->cert_pem);

  auto missing = Authority::load_files(dir / "ca.pem", dir / "nope.pem");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("CA key " + (dir / "nope.pem").string() +
                                         ": No such file or directory"),
            std::string::npos)
      << missing.error().message;
  auto big = Authority::load_files(dir / "big.pem", dir / "ca-key.pem");
  ASSERT_FALSE(big);
  EXPECT_NE(big.error().message.find((dir / "big.pem").string() + ": larger than"),
            std::string::npos)
      << big.error().message;
  auto swapped = Authority::load_files(dir / "ca-key.pem", dir / "ca.pem");
  ASSERT_FALSE(swapped);
  EXPECT_NE(swapped.error().message.find("CA certificate " + (dir / "ca-key.pem").string()),
            std::string::npos)
      << swapped.error().message;
  std::filesystem::remove_all(dir);
}

TEST(PkiCertificate, ReadCertificateRefusesWhatIsNotOneCertificate) {
  const Authority ca = test_ca();
  auto info = read_certificate(ca.cert_pem());
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->common_name, "etcd-mesos test CA");
  EXPECT_EQ(info->not_before, kNow - kDay - 5min);
  EXPECT_FALSE(read_certificate(""));
  EXPECT_FALSE(read_certificate("garbage"));
  EXPECT_FALSE(read_certificate(ca.cert_pem() + ca.cert_pem()));
  EXPECT_FALSE(read_certificate(ca.cert_pem() + std::string(kMaxPemBytes, ' ')));
  auto made = make_request("member-1", {}, {});
  ASSERT_TRUE(made);
  EXPECT_FALSE(read_certificate(made->csr_pem));
}

}  // namespace
}  // namespace etcdmesos::pki
