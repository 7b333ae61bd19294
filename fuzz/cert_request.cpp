// A member's CSR as the scheduler reads it (pki/pki.hpp), and certificates:
// reading never throws or crashes on any bytes; whatever read_request
// accepts, a CA signs, and the certificate says the same names.
// Input that is not PEM text is taken as DER and wrapped in a PEM block (as a
// CSR and as a certificate), so that mutations reach the ASN.1 structure
// instead of breaking its base64.
#include "fuzz_check.hpp"
#include "pki/pki.hpp"

#include <openssl/evp.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

using namespace etcdmesos;

const std::chrono::system_clock::time_point kNow =
    std::chrono::sys_days{std::chrono::year{2030} / 1 / 1};

const pki::Authority& authority() {
  static const pki::Authority ca = [] {
    auto issued = pki::make_ca("fuzz CA", std::chrono::hours(24 * 365), kNow);
    auto loaded = issued ? pki::Authority::load(issued->cert_pem, issued->key_pem)
                         : Result<pki::Authority>(issued.error());
    if (!loaded) {
      std::abort();
    }
    return *loaded;
  }();
  return ca;
}

std::string pem_block(std::string_view der, const std::string& label) {
  std::string base64(4 * ((der.size() + 2) / 3) + 1, '\0');
  const int length = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(base64.data()),
                                     reinterpret_cast<const unsigned char*>(der.data()),
                                     static_cast<int>(der.size()));
  base64.resize(static_cast<std::size_t>(length));
  std::string pem = "-----BEGIN " + label + "-----\n";
  for (std::size_t i = 0; i < base64.size(); i += 64) {
    pem += base64.substr(i, 64) + "\n";
  }
  return pem + "-----END " + label + "-----\n";
}

void check_request(const std::string& text) {
  auto info = pki::read_request(text);
  if (!info) {
    return;
  }
  FUZZ_CHECK(!info->common_name.empty());
  FUZZ_CHECK(info->ip_sans.size() + info->dns_sans.size() <= pki::kMaxSubjectAltNames);
  auto cert = authority().sign(text, std::chrono::hours(24), kNow);
  FUZZ_CHECK(cert);
  auto read = pki::read_certificate(*cert);
  FUZZ_CHECK(read);
  FUZZ_CHECK(read->common_name == info->common_name);
  FUZZ_CHECK(read->ip_sans == info->ip_sans);
  FUZZ_CHECK(read->dns_sans == info->dns_sans);
  FUZZ_CHECK(read->not_after == kNow + std::chrono::hours(24));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  if (text.find("-----BEGIN") != std::string::npos) {
    check_request(text);
    (void)pki::read_certificate(text);
  } else {
    check_request(pem_block(text, "CERTIFICATE REQUEST"));
    (void)pki::read_certificate(pem_block(text, "CERTIFICATE"));
  }
  return 0;
}
