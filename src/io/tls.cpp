// Builds the OpenSSL client context behind io::TlsClient through Asio's
// error_code overloads, so that bad PEM text becomes an Error value.
#include "io/tls.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/system/system_error.hpp>

#include <openssl/ssl.h>

namespace etcdmesos::io {

namespace ssl = boost::asio::ssl;

namespace {

// OpenSSL asks for the pass phrase of an encrypted key through this; its
// default reads the terminal, which would block a daemon. No pass phrase:
// the key does not load, and make() says so.
int no_pass_phrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*userdata*/) {
  return 0;
}

Error failed(const std::string& what, const boost::system::error_code& ec) {
  return make_error("TLS client: " + what + ": " + ec.message());
}

Result<void> load_client_certificate(ssl::context& context, const TlsClientConfig& config) {
  boost::system::error_code ec;
  context.use_certificate_chain(boost::asio::buffer(config.cert_pem), ec);
  if (ec) {
    return failed("the client certificate does not load", ec);
  }
  context.use_private_key(boost::asio::buffer(config.key_pem), ssl::context::pem, ec);
  if (ec) {
    return failed("the client key does not load", ec);
  }
  // use_private_key already refuses most mismatches; this also covers a key
  // of another type than the certificate's.
  if (SSL_CTX_check_private_key(context.native_handle()) != 1) {
    return make_error("TLS client: the client key does not belong to the client certificate");
  }
  return {};
}

}  // namespace

TlsClient::TlsClient() : context_(ssl::context::tls_client) {}

Result<std::shared_ptr<TlsClient>> TlsClient::make(const TlsClientConfig& config) {
  if (config.ca_pem.empty()) {
    return make_error("TLS client: no CA certificate");
  }
  if (config.cert_pem.empty() != config.key_pem.empty()) {
    return make_error(config.cert_pem.empty() ? "TLS client: a key without a certificate"
                                              : "TLS client: a certificate without its key");
  }
  std::shared_ptr<TlsClient> client;
  try {
    client.reset(new TlsClient());
  } catch (const boost::system::system_error& e) {  // SSL_CTX_new failed: out of memory
    return make_error(std::string("TLS client: no SSL context: ") + e.what());
  }
  auto& context = client->context_;
  SSL_CTX_set_default_passwd_cb(context.native_handle(), &no_pass_phrase);
  if (SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_2_VERSION) != 1) {
    return make_error("TLS client: cannot require TLS 1.2");
  }
  boost::system::error_code ec;
  // Only the operator's CA: a certificate from any public CA for the same
  // address must not pass (set_default_verify_paths is never called).
  context.add_certificate_authority(boost::asio::buffer(config.ca_pem), ec);
  if (ec) {
    return failed("the CA certificate does not load", ec);
  }
  context.set_verify_mode(ssl::verify_peer, ec);
  if (ec) {
    return failed("cannot require a verified server", ec);
  }
  if (!config.cert_pem.empty()) {
    if (auto loaded = load_client_certificate(context, config); !loaded) {
      return loaded.error();
    }
    client->has_client_certificate_ = true;
  }
  return client;
}

}  // namespace etcdmesos::io
