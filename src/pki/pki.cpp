#include "pki/pki.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <array>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <optional>
#include <system_error>

namespace etcdmesos::pki {

namespace {

using std::chrono::system_clock;

// Every OpenSSL object is owned by a unique_ptr that frees it the OpenSSL
// way: an early return on any error path leaks nothing (the ASan build
// checks leaks).
template <auto Free>
struct Deleter {
  template <class T>
  void operator()(T* p) const {
    Free(p);
  }
};
template <class T, auto Free>
using Owned = std::unique_ptr<T, Deleter<Free>>;

using BioPtr = Owned<BIO, BIO_free_all>;
using X509Ptr = Owned<X509, X509_free>;
using ReqPtr = Owned<X509_REQ, X509_REQ_free>;
using PkeyPtr = Owned<EVP_PKEY, EVP_PKEY_free>;
using NamePtr = Owned<X509_NAME, X509_NAME_free>;
using ExtPtr = Owned<X509_EXTENSION, X509_EXTENSION_free>;
using GeneralNamesPtr = Owned<GENERAL_NAMES, GENERAL_NAMES_free>;
using GeneralNamePtr = Owned<GENERAL_NAME, GENERAL_NAME_free>;
using OctetStringPtr = Owned<ASN1_OCTET_STRING, ASN1_OCTET_STRING_free>;
using Ia5StringPtr = Owned<ASN1_IA5STRING, ASN1_IA5STRING_free>;
using IntegerPtr = Owned<ASN1_INTEGER, ASN1_INTEGER_free>;
using BignumPtr = Owned<BIGNUM, BN_free>;
using BasicConstraintsPtr = Owned<BASIC_CONSTRAINTS, BASIC_CONSTRAINTS_free>;
using AuthorityKeyIdPtr = Owned<AUTHORITY_KEYID, AUTHORITY_KEYID_free>;

struct OpenSslFree {
  void operator()(void* p) const { OPENSSL_free(p); }
};
template <class T>
using OpenSslBuffer = std::unique_ptr<T, OpenSslFree>;

struct ExtensionsFree {
  void operator()(STACK_OF(X509_EXTENSION) * s) const {
    sk_X509_EXTENSION_pop_free(s, X509_EXTENSION_free);
  }
};
using ExtensionsPtr = std::unique_ptr<STACK_OF(X509_EXTENSION), ExtensionsFree>;

struct FileClose {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

// OpenSSL's error queue is per thread and outlives a call: it is emptied on
// the way in and out of every public function, so that a failure is never
// explained by an earlier call's leftovers.
struct ErrorQueueScope {
  ErrorQueueScope() { ERR_clear_error(); }
  ~ErrorQueueScope() { ERR_clear_error(); }
  ErrorQueueScope(const ErrorQueueScope&) = delete;
  ErrorQueueScope& operator=(const ErrorQueueScope&) = delete;
};

// A text as a value: Error can be made from a string too, so Result<std::string>
// takes one only when told which it is.
Result<std::string> text_value(std::string text) {
  return Result<std::string>(boost::system::in_place_value, std::move(text));
}

// `what`, with OpenSSL's first queued error (the root cause) when it has one.
Error failure(std::string what) {
  const unsigned long code = ERR_get_error();
  if (code != 0) {
    std::array<char, 256> text{};
    ERR_error_string_n(code, text.data(), text.size());
    what += " (" + std::string(text.data()) + ")";
  }
  ERR_clear_error();
  return make_error(std::move(what));
}

// Peer bytes quoted in a message: printable ASCII only, and short, so that a
// log line cannot be forged or flooded through an error.
std::string excerpt(std::string_view text) {
  constexpr std::size_t kMax = 64;
  std::string out = "'";
  for (std::size_t i = 0; i < text.size() && i < kMax; ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  }
  out += text.size() > kMax ? "...'" : "'";
  return out;
}

// The short name of a known object ("basicConstraints"), else its OID.
std::string object_name(const ASN1_OBJECT* object) {
  const int nid = object ? OBJ_obj2nid(object) : NID_undef;
  if (const char* name = nid != NID_undef ? OBJ_nid2sn(nid) : nullptr) {
    return name;
  }
  std::array<char, 128> text{};
  if (object == nullptr ||
      OBJ_obj2txt(text.data(), static_cast<int>(text.size()), object, 1) <= 0) {
    return "(unknown)";
  }
  return text.data();
}

// --- names ---

// Decodes one UTF-8 character at text[i]; the code point, or nullopt for a
// malformed, overlong or surrogate sequence.
std::optional<char32_t> next_code_point(std::string_view text, std::size_t& i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  std::size_t length = 0;
  char32_t cp = 0;
  char32_t least = 0;
  if (lead < 0x80) {
    ++i;
    return lead;
  } else if ((lead & 0xe0) == 0xc0) {
    length = 2, cp = lead & 0x1f, least = 0x80;
  } else if ((lead & 0xf0) == 0xe0) {
    length = 3, cp = lead & 0x0f, least = 0x800;
  } else if ((lead & 0xf8) == 0xf0) {
    length = 4, cp = lead & 0x07, least = 0x10000;
  } else {
    return std::nullopt;
  }
  if (text.size() - i < length) {
    return std::nullopt;
  }
  for (std::size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) {
      return std::nullopt;
    }
    cp = (cp << 6) | (byte(i + k) & 0x3f);
  }
  if (cp < least || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
    return std::nullopt;
  }
  i += length;
  return cp;
}

// Why `name` is not a CN to pass on, or nothing. Control characters (C0,
// DEL, C1) would let a name forge lines in logs and in the user names of
// etcd's --client-cert-auth.
std::optional<std::string> common_name_text_problem(std::string_view name) {
  for (std::size_t i = 0; i < name.size();) {
    const auto cp = next_code_point(name, i);
    if (!cp) {
      return "the CN " + excerpt(name) + " is not UTF-8";
    }
    if (*cp < 0x20 || (*cp >= 0x7f && *cp <= 0x9f)) {
      return "the CN " + excerpt(name) + " holds a control character";
    }
  }
  return std::nullopt;
}

// Why `name` cannot be the CN of a certificate made here, or nothing.
std::optional<std::string> common_name_problem(std::string_view name) {
  if (name.empty()) {
    return "the CN is empty";
  }
  if (name.size() > kMaxCommonNameBytes) {
    return "the CN has " + std::to_string(name.size()) + " bytes, at most " +
           std::to_string(kMaxCommonNameBytes) + " are accepted";
  }
  return common_name_text_problem(name);
}

bool is_printable_ascii(std::string_view text) {
  for (char c : text) {
    if (c < 0x20 || c >= 0x7f) {
      return false;
    }
  }
  return true;
}

// Why `name` is not a DNS name a member could have, or nothing: labels of
// letters, digits and '-' (not at either end), no wildcard.
std::optional<std::string> dns_name_problem(std::string_view name) {
  if (name.empty() || name.size() > 253) {
    return "the DNS name " + excerpt(name) + " is empty or longer than 253 bytes";
  }
  std::size_t start = 0;
  while (start <= name.size()) {
    const auto dot = std::min(name.find('.', start), name.size());
    const auto label = name.substr(start, dot - start);
    bool ok = !label.empty() && label.size() <= 63 && label.front() != '-' && label.back() != '-';
    for (char c : label) {
      ok = ok &&
           ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-');
    }
    if (!ok) {
      return "the DNS name " + excerpt(name) +
             " is not labels of letters, digits and '-' separated by '.'";
    }
    start = dot + 1;
  }
  return std::nullopt;
}

// The 4 or 16 bytes of an IP literal; nullopt for anything else (inet_pton
// refuses zones, ports, short forms like "10.1" and leading zeros).
std::optional<std::string> ip_bytes(const std::string& text) {
  if (text.find('\0') != std::string::npos) {
    return std::nullopt;
  }
  std::array<unsigned char, 16> bytes{};
  if (inet_pton(AF_INET, text.c_str(), bytes.data()) == 1) {
    return std::string(reinterpret_cast<const char*>(bytes.data()), 4);
  }
  if (inet_pton(AF_INET6, text.c_str(), bytes.data()) == 1) {
    return std::string(reinterpret_cast<const char*>(bytes.data()), 16);
  }
  return std::nullopt;
}

// The canonical text of a 4- or 16-byte address; nullopt for another length
// (8 and 32 bytes are name-constraint ranges, not addresses).
std::optional<std::string> ip_text(const ASN1_OCTET_STRING* address) {
  const int length = ASN1_STRING_length(address);
  if (length != 4 && length != 16) {
    return std::nullopt;
  }
  std::array<char, INET6_ADDRSTRLEN> text{};
  if (inet_ntop(length == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(address), text.data(),
                text.size()) == nullptr) {
    return std::nullopt;
  }
  return std::string(text.data());
}

Result<std::string> utf8_of(const ASN1_STRING* text) {
  unsigned char* raw = nullptr;
  const int length = ASN1_STRING_to_UTF8(&raw, text);
  if (length < 0) {
    return failure("not a text string");
  }
  OpenSslBuffer<unsigned char> owned(raw);
  return text_value(
      std::string(reinterpret_cast<const char*>(raw), static_cast<std::size_t>(length)));
}

Result<NamePtr> subject_with_common_name(const std::string& common_name) {
  NamePtr name(X509_NAME_new());
  if (!name ||
      X509_NAME_add_entry_by_txt(name.get(), "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(common_name.data()),
                                 static_cast<int>(common_name.size()), -1, 0) != 1) {
    return failure("cannot make a subject with CN " + excerpt(common_name));
  }
  return name;
}

// Checks the names a certificate may carry and builds its subjectAltName.
Result<GeneralNamesPtr> alt_names(const std::vector<std::string>& ip_sans,
                                  const std::vector<std::string>& dns_sans) {
  if (ip_sans.size() + dns_sans.size() > kMaxSubjectAltNames) {
    return make_error(std::to_string(ip_sans.size() + dns_sans.size()) +
                      " subject alternative names, at most " + std::to_string(kMaxSubjectAltNames) +
                      " are accepted");
  }
  GeneralNamesPtr names(GENERAL_NAMES_new());
  if (!names) {
    return failure("out of memory");
  }
  const auto push = [&](int type, ASN1_STRING* value) {
    GeneralNamePtr name(GENERAL_NAME_new());
    if (!name) {
      ASN1_STRING_free(value);
      return false;
    }
    GENERAL_NAME_set0_value(name.get(), type, value);
    if (sk_GENERAL_NAME_push(names.get(), name.get()) <= 0) {
      return false;
    }
    name.release();  // owned by `names` now
    return true;
  };
  for (const auto& ip : ip_sans) {
    const auto bytes = ip_bytes(ip);
    if (!bytes) {
      return make_error(excerpt(ip) + " is not an IPv4 or IPv6 address");
    }
    OctetStringPtr value(ASN1_OCTET_STRING_new());
    if (!value ||
        ASN1_OCTET_STRING_set(value.get(), reinterpret_cast<const unsigned char*>(bytes->data()),
                              static_cast<int>(bytes->size())) != 1 ||
        !push(GEN_IPADD, value.release())) {
      return failure("cannot add the IP address " + ip);
    }
  }
  for (const auto& dns : dns_sans) {
    if (auto problem = dns_name_problem(dns)) {
      return make_error(*problem);
    }
    Ia5StringPtr value(ASN1_IA5STRING_new());
    if (!value || ASN1_STRING_set(value.get(), dns.data(), static_cast<int>(dns.size())) != 1 ||
        !push(GEN_DNS, value.release())) {
      return failure("cannot add the DNS name " + dns);
    }
  }
  return names;
}

// --- PEM and DER ---

template <class Write>
Result<std::string> pem_of(Write write, std::string_view what) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || write(bio.get()) != 1) {
    return failure("cannot write the " + std::string(what) + " as PEM");
  }
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &data);
  return text_value(std::string(data, static_cast<std::size_t>(length)));
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// Size and alphabet checks common to every PEM input: PEM is ASCII text.
std::optional<std::string> pem_text_problem(std::string_view text) {
  if (text.size() > kMaxPemBytes) {
    return std::to_string(text.size()) + " bytes exceed the limit of " +
           std::to_string(kMaxPemBytes);
  }
  for (char c : text) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (!is_space(c) && (u < 0x20 || u >= 0x7f)) {
      return std::string("not PEM text (a byte that is neither printable ASCII nor a blank)");
    }
  }
  return std::nullopt;
}

// The DER inside exactly one PEM block labelled `label` with nothing but
// blanks around it. PEM readers skip text before a block and ignore what
// follows it; accepting that would let a second, unchecked object ride along
// with the one checked.
Result<std::string> der_of_single_pem(std::string_view text, const std::string& label,
                                      const std::string& what) {
  if (auto problem = pem_text_problem(text)) {
    return make_error(what + ": " + *problem);
  }
  while (!text.empty() && is_space(text.front())) {
    text.remove_prefix(1);
  }
  while (!text.empty() && is_space(text.back())) {
    text.remove_suffix(1);
  }
  const std::string begin = "-----BEGIN " + label + "-----";
  const std::string end = "-----END " + label + "-----";
  if (!text.starts_with(begin) || !text.ends_with(end) || text.size() < begin.size() + end.size()) {
    return make_error(what + ": expected one PEM block " + begin + " ... " + end);
  }
  if (text.find("-----BEGIN", 1) != std::string_view::npos ||
      text.find("-----END") != text.size() - end.size()) {
    return make_error(what + ": more than one PEM block");
  }
  BioPtr bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  char* name = nullptr;
  char* header = nullptr;
  unsigned char* data = nullptr;
  long length = 0;
  const int read = bio ? PEM_read_bio(bio.get(), &name, &header, &data, &length) : 0;
  OpenSslBuffer<char> owned_name(name);
  OpenSslBuffer<char> owned_header(header);
  OpenSslBuffer<unsigned char> owned_data(data);
  if (read != 1 || name == nullptr || data == nullptr) {
    return failure(what + ": malformed PEM");
  }
  if (label != name) {
    return make_error(what + ": expected a PEM block " + excerpt(label) + ", got " + excerpt(name));
  }
  if (header != nullptr && header[0] != '\0') {
    return make_error(what + ": PEM headers (an encrypted block?) are not accepted");
  }
  return text_value(
      std::string(reinterpret_cast<const char*>(data), static_cast<std::size_t>(length)));
}

template <class T>
using D2i = T* (*)(T**, const unsigned char**, long);

// Decodes all of `der` as one T: trailing bytes are refused too.
template <class T, auto Free>
Result<Owned<T, Free>> decode_der(const std::string& der, D2i<T> d2i, const std::string& what) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  Owned<T, Free> object(d2i(nullptr, &p, static_cast<long>(der.size())));
  if (!object) {
    return failure(what + ": malformed DER");
  }
  if (p != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
    return make_error(what + ": bytes after the DER object");
  }
  return object;
}

// --- time ---

Result<system_clock::time_point> time_of(const ASN1_TIME* time, const std::string& what) {
  std::tm tm{};
  if (time == nullptr || ASN1_TIME_to_tm(time, &tm) != 1) {
    return failure(what + ": unreadable time");
  }
  using namespace std::chrono;
  const year_month_day date{year{tm.tm_year + 1900}, month{static_cast<unsigned>(tm.tm_mon + 1)},
                            day{static_cast<unsigned>(tm.tm_mday)}};
  if (!date.ok()) {
    return make_error(what + ": not a date");
  }
  const sys_seconds at =
      sys_days{date} + hours{tm.tm_hour} + minutes{tm.tm_min} + seconds{tm.tm_sec};
  // Year 9999 (RFC 5280's "no expiry") is past what a nanosecond
  // system_clock holds: clamp instead of overflowing.
  const auto max = duration_cast<seconds>(system_clock::time_point::max().time_since_epoch());
  const auto min = duration_cast<seconds>(system_clock::time_point::min().time_since_epoch());
  if (at.time_since_epoch() >= max) {
    return system_clock::time_point::max();
  }
  if (at.time_since_epoch() <= min) {
    return system_clock::time_point::min();
  }
  return time_point_cast<system_clock::duration>(at);
}

std::string utc_text(system_clock::time_point at) {
  const std::time_t t = system_clock::to_time_t(at);
  std::tm tm{};
  std::array<char, 32> text{};
  if (gmtime_r(&t, &tm) == nullptr ||
      std::strftime(text.data(), text.size(), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
    return "(out of range)";
  }
  return text.data();
}

// --- requests ---

// Why a CSR's key is refused, or nothing. Explicit EC curve parameters are
// refused: only a named P-256 is what its name says.
std::optional<std::string> request_key_problem(EVP_PKEY* key) {
  if (key == nullptr) {
    return "its public key is unreadable";
  }
  const int type = EVP_PKEY_get_base_id(key);
  if (type == EVP_PKEY_RSA) {
    const int bits = EVP_PKEY_get_bits(key);
    if (bits < 2048 || bits > 8192) {
      return "an RSA key of " + std::to_string(bits) + " bits; 2048 to 8192 are accepted";
    }
    return std::nullopt;
  }
  if (type != EVP_PKEY_EC) {
    return "a key of type " + excerpt(OBJ_nid2sn(type) ? OBJ_nid2sn(type) : "unknown") +
           "; EC P-256 or RSA are accepted";
  }
  std::array<char, 32> encoding{};
  std::array<char, 64> group{};
  std::size_t length = 0;
  if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_EC_ENCODING, encoding.data(),
                                     encoding.size(), &length) != 1 ||
      std::string_view(encoding.data()) != OSSL_PKEY_EC_ENCODING_GROUP ||
      EVP_PKEY_get_group_name(key, group.data(), group.size(), &length) != 1) {
    return "an EC key without a named curve";
  }
  int nid = OBJ_sn2nid(group.data());
  if (nid == NID_undef) {
    nid = EC_curve_nist2nid(group.data());
  }
  if (nid != NID_X9_62_prime256v1) {
    return "an EC key on curve " + excerpt(group.data()) + "; only P-256 is accepted";
  }
  return std::nullopt;
}

bool accepted_signature(int nid) {
  switch (nid) {
    case NID_sha256WithRSAEncryption:
    case NID_sha384WithRSAEncryption:
    case NID_sha512WithRSAEncryption:
    case NID_ecdsa_with_SHA256:
    case NID_ecdsa_with_SHA384:
    case NID_ecdsa_with_SHA512:
      return true;
    default:
      return false;
  }
}

Result<std::string> request_common_name(X509_REQ* req) {
  const X509_NAME* subject = X509_REQ_get_subject_name(req);
  const int entries = subject ? X509_NAME_entry_count(subject) : 0;
  if (entries == 0) {
    return make_error("CSR: no CN in the subject");
  }
  const X509_NAME_ENTRY* entry = X509_NAME_get_entry(subject, 0);
  const ASN1_OBJECT* type = X509_NAME_ENTRY_get_object(entry);
  if (entries != 1 || OBJ_obj2nid(type) != NID_commonName) {
    return make_error("CSR: the subject must be one CN and nothing else (it has " +
                      std::to_string(entries) + " entries, the first " + object_name(type) + ")");
  }
  auto name = utf8_of(X509_NAME_ENTRY_get_data(entry));
  if (!name) {
    return make_error("CSR: the CN is " + name.error().message);
  }
  if (auto problem = common_name_problem(*name)) {
    return make_error("CSR: " + *problem);
  }
  return name;
}

// The names of one subjectAltName extension, into `info`.
Result<void> read_alt_names(X509_EXTENSION* extension, RequestInfo& info) {
  const ASN1_OCTET_STRING* data = X509_EXTENSION_get_data(extension);
  const std::string der(reinterpret_cast<const char*>(ASN1_STRING_get0_data(data)),
                        static_cast<std::size_t>(ASN1_STRING_length(data)));
  auto names =
      decode_der<GENERAL_NAMES, GENERAL_NAMES_free>(der, d2i_GENERAL_NAMES, "CSR: subjectAltName");
  if (!names) {
    return names.error();
  }
  const int count = sk_GENERAL_NAME_num(names->get());
  if (count <= 0 || static_cast<std::size_t>(count) > kMaxSubjectAltNames) {
    return make_error("CSR: subjectAltName has " + std::to_string(count) + " names; 1 to " +
                      std::to_string(kMaxSubjectAltNames) + " are accepted");
  }
  for (int i = 0; i < count; ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names->get(), i);
    if (name->type == GEN_IPADD) {
      auto text = ip_text(name->d.iPAddress);
      if (!text) {
        return make_error("CSR: a subjectAltName IP entry of " +
                          std::to_string(ASN1_STRING_length(name->d.iPAddress)) +
                          " bytes is not an address");
      }
      info.ip_sans.push_back(std::move(*text));
    } else if (name->type == GEN_DNS) {
      const std::string dns(reinterpret_cast<const char*>(ASN1_STRING_get0_data(name->d.dNSName)),
                            static_cast<std::size_t>(ASN1_STRING_length(name->d.dNSName)));
      if (auto problem = dns_name_problem(dns)) {
        return make_error("CSR: " + *problem);
      }
      info.dns_sans.push_back(dns);
    } else {
      return make_error("CSR: a subjectAltName entry of type " + std::to_string(name->type) +
                        " is not accepted (only IP and DNS)");
    }
  }
  return {};
}

// The CSR's extensions: one subjectAltName, nothing else. A member asks for
// its names; whatever else it asks for (CA:TRUE, a key usage) is refused
// loudly rather than dropped, so that a broken executor is noticed.
Result<void> read_request_extensions(X509_REQ* req, RequestInfo& info) {
  int requests = 0;
  for (int i = 0; i < X509_REQ_get_attr_count(req); ++i) {
    X509_ATTRIBUTE* attribute = X509_REQ_get_attr(req, i);
    const ASN1_OBJECT* type = X509_ATTRIBUTE_get0_object(attribute);
    if (OBJ_obj2nid(type) != NID_ext_req) {
      return make_error("CSR: the attribute " + object_name(type) +
                        " is not accepted (only an extension request)");
    }
    if (X509_ATTRIBUTE_count(attribute) != 1 || ++requests > 1) {
      return make_error("CSR: more than one extension request");
    }
  }
  if (requests == 0) {
    return {};
  }
  ExtensionsPtr extensions(X509_REQ_get_extensions(req));
  if (!extensions) {
    return failure("CSR: malformed extension request");
  }
  bool seen_alt_names = false;
  for (int i = 0; i < sk_X509_EXTENSION_num(extensions.get()); ++i) {
    X509_EXTENSION* extension = sk_X509_EXTENSION_value(extensions.get(), i);
    const ASN1_OBJECT* type = X509_EXTENSION_get_object(extension);
    if (OBJ_obj2nid(type) != NID_subject_alt_name) {
      return make_error("CSR: the extension " + object_name(type) +
                        " is not accepted (a member's request carries only subjectAltName)");
    }
    if (seen_alt_names) {
      return make_error("CSR: more than one subjectAltName extension");
    }
    seen_alt_names = true;
    if (auto read = read_alt_names(extension, info); !read) {
      return read.error();
    }
  }
  return {};
}

struct ParsedRequest {
  ReqPtr req;
  RequestInfo info;
};

Result<ParsedRequest> parse_request(std::string_view csr_pem) {
  auto der = der_of_single_pem(csr_pem, "CERTIFICATE REQUEST", "CSR");
  if (!der) {
    return der.error();
  }
  auto req = decode_der<X509_REQ, X509_REQ_free>(*der, d2i_X509_REQ, "CSR");
  if (!req) {
    return req.error();
  }
  X509_REQ* r = req->get();
  if (X509_REQ_get_version(r) != X509_REQ_VERSION_1) {
    return make_error("CSR: version " + std::to_string(X509_REQ_get_version(r)) +
                      "; only version 1 exists");
  }
  EVP_PKEY* key = X509_REQ_get0_pubkey(r);
  if (auto problem = request_key_problem(key)) {
    return make_error("CSR: " + *problem);
  }
  const int signature = X509_REQ_get_signature_nid(r);
  if (!accepted_signature(signature)) {
    return make_error("CSR: signature algorithm " +
                      excerpt(OBJ_nid2sn(signature) ? OBJ_nid2sn(signature) : "unknown") +
                      " is not accepted (RSA or ECDSA with SHA-256/384/512)");
  }
  // Proof that the sender holds the key the certificate will name.
  if (X509_REQ_verify(r, key) != 1) {
    return failure("CSR: its signature does not verify with its own key");
  }
  ParsedRequest parsed{std::move(*req), {}};
  auto name = request_common_name(r);
  if (!name) {
    return name.error();
  }
  parsed.info.common_name = std::move(*name);
  if (auto extensions = read_request_extensions(r, parsed.info); !extensions) {
    return extensions.error();
  }
  return parsed;
}

// --- certificates ---

Result<X509Ptr> parse_certificate(std::string_view cert_pem, const std::string& what) {
  auto der = der_of_single_pem(cert_pem, "CERTIFICATE", what);
  if (!der) {
    return der.error();
  }
  return decode_der<X509, X509_free>(*der, d2i_X509, what);
}

Result<IntegerPtr> random_serial() {
  std::array<unsigned char, 16> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    return failure("no random serial number");
  }
  // Serial 0 is not allowed (RFC 5280); the draw is 2^-128 likely.
  if (bytes == std::array<unsigned char, 16>{}) {
    bytes.back() = 1;
  }
  BignumPtr number(BN_bin2bn(bytes.data(), static_cast<int>(bytes.size()), nullptr));
  IntegerPtr serial(number ? BN_to_ASN1_INTEGER(number.get(), nullptr) : nullptr);
  if (!serial) {
    return failure("no random serial number");
  }
  return serial;
}

// What every certificate made here starts with: version 3, a random serial,
// the subject CN, the key and the validity window.
Result<X509Ptr> new_certificate(const std::string& common_name, EVP_PKEY* key,
                                system_clock::time_point not_before,
                                system_clock::time_point not_after) {
  X509Ptr cert(X509_new());
  auto serial = random_serial();
  auto subject = subject_with_common_name(common_name);
  if (!serial || !subject) {
    return serial ? subject.error() : serial.error();
  }
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1 ||
      X509_set_serialNumber(cert.get(), serial->get()) != 1 ||
      X509_set_subject_name(cert.get(), subject->get()) != 1 ||
      X509_set_pubkey(cert.get(), key) != 1 ||
      ASN1_TIME_set(X509_getm_notBefore(cert.get()), system_clock::to_time_t(not_before)) ==
          nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(cert.get()), system_clock::to_time_t(not_after)) ==
          nullptr) {
    return failure("cannot fill in a certificate");
  }
  return cert;
}

// Adds an extension written in OpenSSL's configuration syntax. Only fixed
// strings go through it: a peer's names never do (a comma in a name would
// add an entry).
bool add_extension(X509* cert, X509V3_CTX& context, int nid, const char* value) {
  ExtPtr extension(X509V3_EXT_conf_nid(nullptr, &context, nid, value));
  return extension && X509_add_ext(cert, extension.get(), -1) == 1;
}

// The authority key identifier is the CA's subject key identifier when it
// has one (what verifiers match it against), else the SHA-1 of its key, as
// OpenSSL computes one.
bool add_authority_key_id(X509* cert, X509* ca) {
  OctetStringPtr key_id;
  if (const ASN1_OCTET_STRING* ca_key_id = X509_get0_subject_key_id(ca)) {
    key_id.reset(ASN1_OCTET_STRING_dup(ca_key_id));
  } else {
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int length = 0;
    key_id.reset(ASN1_OCTET_STRING_new());
    if (!key_id || X509_pubkey_digest(ca, EVP_sha1(), digest.data(), &length) != 1 ||
        ASN1_OCTET_STRING_set(key_id.get(), digest.data(), static_cast<int>(length)) != 1) {
      return false;
    }
  }
  AuthorityKeyIdPtr authority_key_id(AUTHORITY_KEYID_new());
  if (!key_id || !authority_key_id) {
    return false;
  }
  authority_key_id->keyid = key_id.release();
  return X509_add1_ext_i2d(cert, NID_authority_key_identifier, authority_key_id.get(), 0,
                           X509V3_ADD_DEFAULT) == 1;
}

Result<std::string> certificate_pem(X509* cert) {
  return pem_of([cert](BIO* bio) { return PEM_write_bio_X509(bio, cert); }, "certificate");
}

Result<PkeyPtr> new_p256_key() {
  PkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) {
    return failure("cannot generate an EC P-256 key");
  }
  return key;
}

Result<std::string> private_key_pem(EVP_PKEY* key) {
  return pem_of(
      [key](BIO* bio) {
        return PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
      },
      "private key");
}

// --- the CA's key ---

// Called by OpenSSL when the key is encrypted: there is nobody to ask.
int refuse_passphrase(char*, int, int, void* asked) {
  *static_cast<bool*>(asked) = true;
  return -1;
}

Result<PkeyPtr> read_private_key(std::string_view pem, const std::string& what) {
  const std::string encrypted =
      what +
      ": the key is encrypted and there is nobody to ask for its passphrase; give the key "
      "decrypted (openssl pkey -in key.pem -out plain-key.pem) in a file only its user reads";
  if (auto problem = pem_text_problem(pem)) {
    return make_error(what + ": " + *problem);
  }
  if (pem.find("ENCRYPTED") != std::string_view::npos) {
    return make_error(encrypted);
  }
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  bool asked = false;
  PkeyPtr key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, refuse_passphrase, &asked)
                  : nullptr);
  if (asked) {
    return make_error(encrypted);
  }
  if (!key) {
    return failure(what + ": no PEM private key");
  }
  return key;
}

Result<std::string> read_small_file(const std::filesystem::path& path, const std::string& what) {
  std::unique_ptr<std::FILE, FileClose> file(std::fopen(path.c_str(), "rb"));
  if (!file) {
    return make_error(what + ": " + std::error_code(errno, std::generic_category()).message());
  }
  std::string text(kMaxPemBytes + 1, '\0');
  const std::size_t read = std::fread(text.data(), 1, text.size(), file.get());
  if (std::ferror(file.get()) != 0) {
    return make_error(what + ": cannot read it");
  }
  if (read > kMaxPemBytes) {
    return make_error(what + ": larger than " + std::to_string(kMaxPemBytes) + " bytes");
  }
  text.resize(read);
  return text_value(std::move(text));
}

}  // namespace

bool is_ip_literal(const std::string& text) {
  return ip_bytes(text).has_value();
}

struct Authority::State {
  X509Ptr cert;
  PkeyPtr key;
  std::string cert_pem;
  system_clock::time_point not_before;
  system_clock::time_point not_after;
};

namespace {

// Why `cert` cannot sign certificates, or nothing.
std::optional<std::string> ca_problem(X509* cert) {
  const uint32_t flags = X509_get_extension_flags(cert);
  if ((flags & EXFLAG_INVALID) != 0) {
    return "its extensions are malformed";
  }
  int critical = 0;
  BasicConstraintsPtr constraints(static_cast<BASIC_CONSTRAINTS*>(
      X509_get_ext_d2i(cert, NID_basic_constraints, &critical, nullptr)));
  if (!constraints || constraints->ca == 0) {
    return "it is not a CA (no basicConstraints CA:TRUE)";
  }
  if ((flags & EXFLAG_KUSAGE) != 0 && (X509_get_key_usage(cert) & KU_KEY_CERT_SIGN) == 0) {
    return "its keyUsage does not allow signing certificates (keyCertSign)";
  }
  const EVP_PKEY* key = X509_get0_pubkey(cert);
  const int type = key ? EVP_PKEY_get_base_id(key) : EVP_PKEY_NONE;
  if (type != EVP_PKEY_RSA && type != EVP_PKEY_EC) {
    return "its key is neither RSA nor EC";
  }
  return std::nullopt;
}

Result<std::shared_ptr<const Authority::State>> load_state(std::string_view cert_pem,
                                                           std::string_view key_pem,
                                                           const std::string& cert_what,
                                                           const std::string& key_what) {
  auto cert = parse_certificate(cert_pem, cert_what);
  if (!cert) {
    return cert.error();
  }
  if (auto problem = ca_problem(cert->get())) {
    return make_error(cert_what + ": " + *problem);
  }
  auto not_before = time_of(X509_get0_notBefore(cert->get()), cert_what + ": notBefore");
  auto not_after = time_of(X509_get0_notAfter(cert->get()), cert_what + ": notAfter");
  if (!not_before || !not_after) {
    return not_before ? not_after.error() : not_before.error();
  }
  auto key = read_private_key(key_pem, key_what);
  if (!key) {
    return key.error();
  }
  if (X509_check_private_key(cert->get(), key->get()) != 1) {
    return failure(key_what + ": it does not match the public key of the " + cert_what);
  }
  auto pem = certificate_pem(cert->get());
  if (!pem) {
    return pem.error();
  }
  return std::make_shared<const Authority::State>(Authority::State{
      std::move(*cert), std::move(*key), std::move(*pem), *not_before, *not_after});
}

}  // namespace

Result<std::string> make_key() {
  ErrorQueueScope errors;
  auto key = new_p256_key();
  if (!key) {
    return key.error();
  }
  return private_key_pem(key->get());
}

Result<std::string> make_request_for_key(std::string_view key_pem, const std::string& common_name,
                                         const std::vector<std::string>& ip_sans,
                                         const std::vector<std::string>& dns_sans) {
  ErrorQueueScope errors;
  if (auto problem = common_name_problem(common_name)) {
    return make_error(*problem);
  }
  auto names = alt_names(ip_sans, dns_sans);
  if (!names) {
    return names.error();
  }
  auto key = read_private_key(key_pem, "key");
  if (!key) {
    return key.error();
  }
  // The scheduler would refuse a request with another key: say so here.
  if (auto problem = request_key_problem(key->get())) {
    return make_error("key: " + *problem);
  }
  auto subject = subject_with_common_name(common_name);
  if (!subject) {
    return subject.error();
  }
  ReqPtr req(X509_REQ_new());
  if (!req || X509_REQ_set_version(req.get(), X509_REQ_VERSION_1) != 1 ||
      X509_REQ_set_subject_name(req.get(), subject->get()) != 1 ||
      X509_REQ_set_pubkey(req.get(), key->get()) != 1) {
    return failure("cannot fill in a CSR");
  }
  if (sk_GENERAL_NAME_num(names->get()) > 0) {
    ExtensionsPtr extensions(sk_X509_EXTENSION_new_null());
    ExtPtr alt(X509V3_EXT_i2d(NID_subject_alt_name, 0, names->get()));
    if (!extensions || !alt || sk_X509_EXTENSION_push(extensions.get(), alt.get()) <= 0) {
      return failure("cannot add subjectAltName to a CSR");
    }
    alt.release();  // owned by `extensions` now
    if (X509_REQ_add_extensions(req.get(), extensions.get()) != 1) {
      return failure("cannot add subjectAltName to a CSR");
    }
  }
  if (X509_REQ_sign(req.get(), key->get(), EVP_sha256()) <= 0) {
    return failure("cannot sign a CSR");
  }
  return pem_of([&](BIO* bio) { return PEM_write_bio_X509_REQ(bio, req.get()); }, "CSR");
}

Result<KeyAndRequest> make_request(const std::string& common_name,
                                   const std::vector<std::string>& ip_sans,
                                   const std::vector<std::string>& dns_sans) {
  auto key = make_key();
  if (!key) {
    return key.error();
  }
  auto csr = make_request_for_key(*key, common_name, ip_sans, dns_sans);
  if (!csr) {
    return csr.error();
  }
  return KeyAndRequest{std::move(*key), std::move(*csr)};
}

Result<RequestInfo> read_request(std::string_view csr_pem) {
  ErrorQueueScope errors;
  auto parsed = parse_request(csr_pem);
  if (!parsed) {
    return parsed.error();
  }
  return std::move(parsed->info);
}

Result<CertificateInfo> read_certificate(std::string_view cert_pem) {
  ErrorQueueScope errors;
  auto cert = parse_certificate(cert_pem, "certificate");
  if (!cert) {
    return cert.error();
  }
  X509* c = cert->get();
  CertificateInfo info;
  const X509_NAME* subject = X509_get_subject_name(c);
  const int cn = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (cn >= 0) {
    if (X509_NAME_get_index_by_NID(subject, NID_commonName, cn) >= 0) {
      return make_error("certificate: more than one CN");
    }
    auto name = utf8_of(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, cn)));
    if (!name) {
      return make_error("certificate: the CN is " + name.error().message);
    }
    if (auto problem = common_name_text_problem(*name)) {
      return make_error("certificate: " + *problem);
    }
    info.common_name = std::move(*name);
  }
  int critical = 0;
  GeneralNamesPtr names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(c, NID_subject_alt_name, &critical, nullptr)));
  if (!names && critical != -1) {
    return failure("certificate: malformed or repeated subjectAltName");
  }
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type == GEN_IPADD) {
      auto text = ip_text(name->d.iPAddress);
      if (!text) {
        return make_error("certificate: a subjectAltName IP entry is not an address");
      }
      info.ip_sans.push_back(std::move(*text));
    } else if (name->type == GEN_DNS) {
      const std::string dns(reinterpret_cast<const char*>(ASN1_STRING_get0_data(name->d.dNSName)),
                            static_cast<std::size_t>(ASN1_STRING_length(name->d.dNSName)));
      if (!is_printable_ascii(dns)) {
        return make_error("certificate: a subjectAltName DNS entry is not printable ASCII");
      }
      info.dns_sans.push_back(dns);
    }
  }
  auto not_before = time_of(X509_get0_notBefore(c), "certificate: notBefore");
  auto not_after = time_of(X509_get0_notAfter(c), "certificate: notAfter");
  if (!not_before || !not_after) {
    return not_before ? not_after.error() : not_before.error();
  }
  info.not_before = *not_before;
  info.not_after = *not_after;
  return info;
}

Result<void> certificate_matches_key(std::string_view cert_pem, std::string_view key_pem) {
  ErrorQueueScope errors;
  auto cert = parse_certificate(cert_pem, "certificate");
  if (!cert) {
    return cert.error();
  }
  auto key = read_private_key(key_pem, "key");
  if (!key) {
    return key.error();
  }
  if (X509_check_private_key(cert->get(), key->get()) != 1) {
    return make_error("the certificate holds another public key than this key's");
  }
  return {};
}

Result<Issued> make_ca(const std::string& common_name, std::chrono::seconds validity,
                       std::chrono::system_clock::time_point now) {
  ErrorQueueScope errors;
  if (auto problem = common_name_problem(common_name)) {
    return make_error(*problem);
  }
  if (validity < std::chrono::seconds(1) || validity > kMaxValidity) {
    return make_error("a validity of " + std::to_string(validity.count()) + " s is out of range");
  }
  auto key = new_p256_key();
  if (!key) {
    return key.error();
  }
  auto cert = new_certificate(common_name, key->get(), now - kClockSkew, now + validity);
  if (!cert) {
    return cert.error();
  }
  X509* c = cert->get();
  X509V3_CTX context{};
  X509V3_set_ctx(&context, c, c, nullptr, nullptr, 0);
  if (X509_set_issuer_name(c, X509_get_subject_name(c)) != 1 ||
      !add_extension(c, context, NID_basic_constraints, "critical,CA:TRUE") ||
      !add_extension(c, context, NID_key_usage, "critical,keyCertSign,cRLSign") ||
      !add_extension(c, context, NID_subject_key_identifier, "hash") ||
      X509_sign(c, key->get(), EVP_sha256()) <= 0) {
    return failure("cannot make a CA certificate");
  }
  auto key_pem = private_key_pem(key->get());
  auto cert_pem = certificate_pem(c);
  if (!key_pem || !cert_pem) {
    return key_pem ? cert_pem.error() : key_pem.error();
  }
  return Issued{std::move(*key_pem), std::move(*cert_pem)};
}

Result<Authority> Authority::load(std::string_view ca_cert_pem, std::string_view ca_key_pem) {
  ErrorQueueScope errors;
  auto state = load_state(ca_cert_pem, ca_key_pem, "CA certificate", "CA key");
  if (!state) {
    return state.error();
  }
  return Authority(std::move(*state));
}

Result<Authority> Authority::load_files(const std::filesystem::path& cert,
                                        const std::filesystem::path& key) {
  ErrorQueueScope errors;
  const std::string cert_what = "CA certificate " + cert.string();
  const std::string key_what = "CA key " + key.string();
  auto cert_pem = read_small_file(cert, cert_what);
  auto key_pem = read_small_file(key, key_what);
  if (!cert_pem || !key_pem) {
    return cert_pem ? key_pem.error() : cert_pem.error();
  }
  auto state = load_state(*cert_pem, *key_pem, cert_what, key_what);
  if (!state) {
    return state.error();
  }
  return Authority(std::move(*state));
}

Result<std::string> Authority::sign(std::string_view csr_pem, std::chrono::seconds validity,
                                    std::chrono::system_clock::time_point now) const {
  ErrorQueueScope errors;
  if (validity < std::chrono::seconds(1) || validity > kMaxValidity) {
    return make_error("a validity of " + std::to_string(validity.count()) + " s is out of range");
  }
  const State& ca = *state_;
  if (now < ca.not_before || now > ca.not_after) {
    return make_error("the CA certificate is not valid at " + utc_text(now) + " (valid from " +
                      utc_text(ca.not_before) + " to " + utc_text(ca.not_after) + ")");
  }
  auto parsed = parse_request(csr_pem);
  if (!parsed) {
    return parsed.error();
  }
  const RequestInfo& info = parsed->info;
  auto names = alt_names(info.ip_sans, info.dns_sans);
  if (!names) {
    return names.error();
  }
  auto cert = new_certificate(info.common_name, X509_REQ_get0_pubkey(parsed->req.get()),
                              now - kClockSkew, now + validity);
  if (!cert) {
    return cert.error();
  }
  X509* c = cert->get();
  X509V3_CTX context{};
  X509V3_set_ctx(&context, ca.cert.get(), c, nullptr, nullptr, 0);
  if (X509_set_issuer_name(c, X509_get_subject_name(ca.cert.get())) != 1 ||
      !add_extension(c, context, NID_basic_constraints, "critical,CA:FALSE") ||
      !add_extension(c, context, NID_key_usage, "critical,digitalSignature,keyEncipherment") ||
      !add_extension(c, context, NID_ext_key_usage, "serverAuth,clientAuth") ||
      !add_extension(c, context, NID_subject_key_identifier, "hash") ||
      !add_authority_key_id(c, ca.cert.get()) ||
      (sk_GENERAL_NAME_num(names->get()) > 0 &&
       X509_add1_ext_i2d(c, NID_subject_alt_name, names->get(), 0, X509V3_ADD_DEFAULT) != 1) ||
      X509_sign(c, ca.key.get(), EVP_sha256()) <= 0) {
    return failure("cannot sign the certificate for " + excerpt(info.common_name));
  }
  return certificate_pem(c);
}

Result<Issued> Authority::issue(const std::string& common_name,
                                const std::vector<std::string>& ip_sans,
                                const std::vector<std::string>& dns_sans,
                                std::chrono::seconds validity,
                                std::chrono::system_clock::time_point now) const {
  auto request = make_request(common_name, ip_sans, dns_sans);
  if (!request) {
    return request.error();
  }
  auto cert = sign(request->csr_pem, validity, now);
  if (!cert) {
    return cert.error();
  }
  return Issued{std::move(request->key_pem), std::move(*cert)};
}

const std::string& Authority::cert_pem() const {
  return state_->cert_pem;
}

}  // namespace etcdmesos::pki
