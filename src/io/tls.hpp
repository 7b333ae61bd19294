// TLS for the one-shot HTTP client (io::http_request): the client side of
// etcd members that serve clients over TLS and require client certificates
// (`--client-cert-auth`), with the operator's CA as the only trust anchor.
//
// A TlsClient is built once from PEM text and shared (std::shared_ptr) by
// every Endpoint that should speak TLS; requests under way keep the one they
// started with, so replacing it (a renewed certificate) is safe at any time.
// Immutable after make(); use it from one io_context's thread, as the rest of
// io/http.hpp. Errors in the PEM text are returned as values, never thrown.
#pragma once

#include "common/error.hpp"

#include <boost/asio/ssl/context.hpp>

#include <memory>
#include <string>

namespace etcdmesos::io {

struct TlsClientConfig {
  std::string ca_pem;    // the CA that issued the servers' certificates (one or more)
  std::string cert_pem;  // this client's certificate (chain); empty: none
  std::string key_pem;   // its private key (unencrypted); empty exactly when cert_pem is
};

class TlsClient {
 public:
  // A client context: TLS 1.2 or later, the server's certificate verified
  // against config.ca_pem only (never the system's store), and the client
  // certificate presented when one is given. Error for PEM that does not
  // load, an encrypted key, a certificate without key (or the reverse), or a
  // key that does not belong to the certificate.
  static Result<std::shared_ptr<TlsClient>> make(const TlsClientConfig& config);

  TlsClient(const TlsClient&) = delete;
  TlsClient& operator=(const TlsClient&) = delete;

  boost::asio::ssl::context& context() { return context_; }
  bool has_client_certificate() const { return has_client_certificate_; }

 private:
  TlsClient();
  boost::asio::ssl::context context_;
  bool has_client_certificate_ = false;
};

}  // namespace etcdmesos::io
