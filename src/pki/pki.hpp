// The certificates of a TLS cluster (issue 13 item 1): keys, certificate
// signing requests (CSRs) and an operator's CA that signs them.
//
// A member's private key never leaves its agent: the executor makes a key
// and a CSR (make_request), the CSR travels to the scheduler
// (codec/tls_message.hpp), which checks it (read_request) and signs it with
// the CA (Authority::sign). A CSR is peer input: reading it never throws and
// never crashes, whatever the bytes (fuzz/cert_request.cpp), and it is
// refused unless it asks for exactly what a member may have — a common name
// and IP/DNS subject alternative names. The certificate signed copies only
// those, never what else a CSR asks for (a CA:TRUE request would otherwise
// make a member a CA for the whole cluster).
//
// Everything here is OpenSSL 3 behind values: no OpenSSL type in this header,
// errors are Result values naming the problem. Not thread-safe: an Authority
// (and its copies, which share the CA's key) is used from one thread at a
// time.
#pragma once

#include "common/error.hpp"

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace etcdmesos::pki {

// A PEM certificate, CSR or key longer than this is refused: a P-256 CSR is
// under 1 KiB and an 8192-bit RSA key under 7 KiB.
inline constexpr std::size_t kMaxPemBytes = 16 * 1024;
// The most subject alternative names (IP and DNS together) in a request: a
// member needs a handful.
inline constexpr std::size_t kMaxSubjectAltNames = 64;
// X.509's upper bound for a common name (ub-common-name), in bytes here.
inline constexpr std::size_t kMaxCommonNameBytes = 64;
// The longest validity sign() and issue() grant.
inline constexpr std::chrono::seconds kMaxValidity = std::chrono::hours(24 * 3650);
// notBefore is this far before `now`: a peer whose clock is a little behind
// the scheduler's would otherwise reject a certificate not yet valid.
inline constexpr std::chrono::seconds kClockSkew = std::chrono::minutes(5);

// Whether `text` is an IPv4 or IPv6 literal (as inet_pton reads them: no
// zones, ports or short forms): what goes into a request's IP entries rather
// than its DNS ones.
bool is_ip_literal(const std::string& text);

// A new EC P-256 private key, PEM (PKCS#8, unencrypted: it stays on the
// agent, in a file only its user reads).
Result<std::string> make_key();

// A CSR signed by `key_pem` (a key of make_key, or any unencrypted EC P-256
// or RSA 2048..8192 key), subject CN = common_name, with subjectAltName IP
// entries (IPv4/IPv6 literals) and DNS entries. An executor keeps one key
// and asks again with it when its certificate is due for renewal. Error for
// an address that is not an IP literal, a DNS name that is not letters,
// digits, '-' and '.' labels, a common name that read_request would refuse,
// more than kMaxSubjectAltNames names, or a key it cannot use.
Result<std::string> make_request_for_key(std::string_view key_pem, const std::string& common_name,
                                         const std::vector<std::string>& ip_sans,
                                         const std::vector<std::string>& dns_sans);

struct KeyAndRequest {
  std::string key_pem;  // PKCS#8, unencrypted: it stays on the agent
  std::string csr_pem;
};

// make_key, then make_request_for_key with it.
Result<KeyAndRequest> make_request(const std::string& common_name,
                                   const std::vector<std::string>& ip_sans,
                                   const std::vector<std::string>& dns_sans);

struct RequestInfo {
  std::string common_name;
  std::vector<std::string> ip_sans;  // canonical text (inet_ntop)
  std::vector<std::string> dns_sans;
  bool operator==(const RequestInfo&) const = default;
};

// Reads exactly one PEM CSR ("CERTIFICATE REQUEST", at most kMaxPemBytes,
// nothing but whitespace around it), verifies its signature with its own key
// (proof that the sender holds the key), and accepts only EC P-256 (named
// curve) or RSA keys of 2048..8192 bits signed with SHA-256/384/512. The
// subject must be exactly one CN (UTF-8, 1..64 bytes, no control
// characters); the only extension allowed is one subjectAltName holding only
// IP and DNS entries; no attribute but the extension request. Anything else
// is an Error saying what. Never throws.
Result<RequestInfo> read_request(std::string_view csr_pem);

struct CertificateInfo {
  std::string common_name;  // empty when the subject has no CN
  std::vector<std::string> ip_sans;
  std::vector<std::string> dns_sans;  // other kinds of names are not listed
  std::chrono::system_clock::time_point not_before;
  std::chrono::system_clock::time_point not_after;  // clamped to time_point::max()
};

// Reads exactly one PEM certificate (at most kMaxPemBytes). No signature or
// chain check: it says what a certificate claims. Never throws.
Result<CertificateInfo> read_certificate(std::string_view cert_pem);

// Success when the certificate (one PEM block, as read_certificate reads it)
// holds the public key of `key_pem`: a certificate sent for another key
// would leave etcd unable to start. Error saying which does not read or
// that they do not match.
Result<void> certificate_matches_key(std::string_view cert_pem, std::string_view key_pem);

struct Issued {
  std::string key_pem;
  std::string cert_pem;
};

// A self-signed CA (EC P-256, CA:TRUE, keyCertSign) valid from now - kClockSkew
// to now + validity: for tests and development clusters. A production
// cluster uses the operator's CA (Authority::load_files).
Result<Issued> make_ca(const std::string& common_name, std::chrono::seconds validity,
                       std::chrono::system_clock::time_point now);

class Authority {
 public:
  // The operator's CA: one PEM certificate that is a CA (basicConstraints
  // CA:TRUE and, when keyUsage is present, keyCertSign) with an RSA or EC
  // key, and its PEM private key, unencrypted (an encrypted one is refused
  // with a message saying so: the scheduler has nobody to ask for a
  // passphrase), which must match the certificate. The error says which of
  // the two is wrong and why.
  static Result<Authority> load(std::string_view ca_cert_pem, std::string_view ca_key_pem);
  // The same from files (each at most kMaxPemBytes).
  static Result<Authority> load_files(const std::filesystem::path& cert,
                                      const std::filesystem::path& key);

  // Signs a CSR that read_request accepts (it is read again here). The
  // certificate holds only the CSR's CN and its IP/DNS names; issuer = the
  // CA's subject; a random 128-bit positive serial; valid from
  // now - kClockSkew to now + validity (1 s..kMaxValidity);
  // basicConstraints CA:FALSE and keyUsage digitalSignature,keyEncipherment
  // (both critical); extendedKeyUsage serverAuth,clientAuth (etcd uses one
  // certificate as a server and as a client of its peers); subject and
  // authority key identifiers; SHA-256 signature. Error also when `now` is
  // outside the CA's own validity: what it signed then would not verify.
  Result<std::string> sign(std::string_view csr_pem, std::chrono::seconds validity,
                           std::chrono::system_clock::time_point now) const;

  // A key made here and a certificate for it, as sign() makes them (the
  // scheduler's own etcd client certificate: it never leaves its memory).
  Result<Issued> issue(const std::string& common_name, const std::vector<std::string>& ip_sans,
                       const std::vector<std::string>& dns_sans, std::chrono::seconds validity,
                       std::chrono::system_clock::time_point now) const;

  // The CA certificate in PEM, for members to trust.
  const std::string& cert_pem() const;

  struct State;  // the OpenSSL objects, shared by copies

 private:
  explicit Authority(std::shared_ptr<const State> state) : state_(std::move(state)) {}
  std::shared_ptr<const State> state_;
};

}  // namespace etcdmesos::pki
