// io::TlsClient and io::http_request over TLS, against a real etcd 3.4 that
// serves clients over TLS with --client-cert-auth (as every member does once
// the operator's CA is configured). The certificates are made with the
// openssl command line in a temporary directory.
#include "io/tls.hpp"
#include "io/etcd_client.hpp"
#include "io/http.hpp"

#include "io_test_util.hpp"
#include "support/processes.hpp"

#include <gtest/gtest.h>

#include <sys/wait.h>

#include <boost/asio/ip/tcp.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>

extern char** environ;

namespace etcdmesos::io {
namespace {

using etcdmesos::testing::ChildProcess;
using etcdmesos::testing::free_port;
using etcdmesos::testing::read_file;
using etcdmesos::testing::run_coro;
using etcdmesos::testing::TempDir;
using std::chrono::milliseconds;
using std::chrono::seconds;
namespace fs = std::filesystem;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The PEM files of one test run: a CA with a server certificate for
// 127.0.0.1 (serverAuth and clientAuth: etcd's JSON gateway dials its own
// gRPC port with it) and a client certificate; an unrelated second CA.
class Certificates {
 public:
  explicit Certificates(const fs::path& dir) : dir_(dir) {
    write("plain.cnf", "[req]\ndistinguished_name = dn\n[dn]\n");
    write("server.ext",
          "basicConstraints = CA:FALSE\nkeyUsage = digitalSignature\n"
          "extendedKeyUsage = serverAuth,clientAuth\nsubjectAltName = IP:127.0.0.1\n");
    write("client.ext",
          "basicConstraints = CA:FALSE\nkeyUsage = digitalSignature\n"
          "extendedKeyUsage = clientAuth\n");
    make_ca("ca");
    make_ca("other-ca");
    make_leaf("server", "ca", "server.ext");
    make_leaf("client", "ca", "client.ext");
    // The client key with a pass phrase: loading it must fail, not prompt.
    openssl("encrypt", {"pkey", "-in", path("client.key"), "-aes256", "-passout", "pass:secret",
                        "-out", path("client-encrypted.key")});
  }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::string pem(const std::string& name) const { return read_file(dir_ / name); }

 private:
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(dir_ / name) << text;
  }

  void openssl(const std::string& step, std::vector<std::string> args) const {
    args.insert(args.begin(), "/usr/bin/openssl");
    ChildProcess process(args, dir_ / ("log-" + step));
    auto status = process.wait(seconds(30));
    if (!status || !WIFEXITED(*status) || WEXITSTATUS(*status) != 0) {
      throw std::runtime_error("openssl " + step + " failed: " + process.stderr_text());
    }
  }

  void make_ca(const std::string& name) const {
    openssl(name, {"req",
                   "-x509",
                   "-config",
                   path("plain.cnf"),
                   "-newkey",
                   "ec",
                   "-pkeyopt",
                   "ec_paramgen_curve:P-256",
                   "-nodes",
                   "-keyout",
                   path(name + ".key"),
                   "-out",
                   path(name + ".pem"),
                   "-days",
                   "2",
                   "-subj",
                   "/CN=" + name,
                   "-addext",
                   "basicConstraints=critical,CA:TRUE",
                   "-addext",
                   "keyUsage=critical,keyCertSign,cRLSign"});
  }

  void make_leaf(const std::string& name, const std::string& ca, const std::string& ext) {
    openssl(name + "-csr",
            {"req", "-new", "-config", path("plain.cnf"), "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:P-256", "-nodes", "-keyout", path(name + ".key"), "-out",
             path(name + ".csr"), "-subj", "/CN=" + name});
    openssl(name + "-sign", {"x509", "-req", "-in", path(name + ".csr"), "-CA", path(ca + ".pem"),
                             "-CAkey", path(ca + ".key"), "-set_serial", std::to_string(++serial_),
                             "-days", "2", "-extfile", path(ext), "-out", path(name + ".pem")});
  }

  fs::path dir_;
  int serial_ = 0;
};

// One etcd member serving clients over TLS with client certificates
// required, on 127.0.0.1 and on 127.0.0.2 (whose address its certificate
// does not carry), with ports from the OS.
class TlsEtcd {
 public:
  TlsEtcd(const fs::path& dir, const Certificates& certs) {
    // A port is released before etcd binds it; another process may take it
    // in between, so a failed start is tried again with fresh ports.
    for (int attempt = 0; attempt < 3; ++attempt) {
      port_ = free_port();
      other_port_ = free_port("127.0.0.2");
      start(dir / ("etcd-" + std::to_string(attempt)), certs);
      if (wait_ready(certs)) {
        return;
      }
      log_ = process_->stderr_text();
      process_->stop();
    }
    throw std::runtime_error("etcd with TLS did not start; log:\n" + log_);
  }

  uint16_t port() const { return port_; }
  uint16_t other_port() const { return other_port_; }
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_); }

 private:
  void start(const fs::path& dir, const Certificates& certs) {
    const std::string client_urls = url() + ",https://127.0.0.2:" + std::to_string(other_port_);
    const std::string peer_url = "http://127.0.0.1:" + std::to_string(free_port());
    // etcd exits when a flag is also set through ETCD_*; drop inherited ones.
    std::vector<std::string> command = {"/usr/bin/env"};
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
      std::string entry(*e);
      if (entry.rfind("ETCD_", 0) == 0) {
        command.insert(command.end(), {"-u", entry.substr(0, entry.find('='))});
      }
    }
    command.insert(
        command.end(),
        {"/usr/bin/etcd", "--name=t", "--data-dir=" + (dir / "data").string(), "--logger=zap",
         "--log-outputs=stderr", "--listen-client-urls=" + client_urls,
         "--advertise-client-urls=" + url(), "--listen-peer-urls=" + peer_url,
         "--initial-advertise-peer-urls=" + peer_url, "--initial-cluster=t=" + peer_url,
         "--cert-file=" + certs.path("server.pem"), "--key-file=" + certs.path("server.key"),
         "--trusted-ca-file=" + certs.path("ca.pem"), "--client-cert-auth"});
    process_ = std::make_unique<ChildProcess>(command, dir / "logs");
  }

  // Ready once it answers a status request over TLS with the client certificate.
  bool wait_ready(const Certificates& certs) {
    auto tls =
        TlsClient::make({certs.pem("ca.pem"), certs.pem("client.pem"), certs.pem("client.key")});
    if (!tls) {
      throw std::runtime_error(tls.error().message);
    }
    boost::asio::io_context ioc;
    EtcdClient client(ioc.get_executor(), Endpoint{"127.0.0.1", port_, *tls}, seconds(1));
    return etcdmesos::testing::wait_until(
        [&] { return process_->running() && run_coro(ioc, client.status(), seconds(5)); },
        seconds(30));
  }

  uint16_t port_ = 0;
  uint16_t other_port_ = 0;
  std::unique_ptr<ChildProcess> process_;
  std::string log_;
};

class TlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir("etcdmesos-tls");
    certs_ = new Certificates(dir_->path());
  }
  static void TearDownTestSuite() {
    delete certs_;
    certs_ = nullptr;
    delete dir_;
    dir_ = nullptr;
  }

  static std::shared_ptr<TlsClient> tls(const std::string& ca, bool with_client_certificate) {
    TlsClientConfig config{certs_->pem(ca + ".pem"), {}, {}};
    if (with_client_certificate) {
      config.cert_pem = certs_->pem("client.pem");
      config.key_pem = certs_->pem("client.key");
    }
    auto made = TlsClient::make(config);
    EXPECT_TRUE(made) << made.error().message;
    return made ? *made : nullptr;
  }

  static TempDir* dir_;
  static Certificates* certs_;
  boost::asio::io_context ioc_;
};

TempDir* TlsTest::dir_ = nullptr;
Certificates* TlsTest::certs_ = nullptr;

// Shares one etcd among its tests: starting one takes about a second.
class EtcdTlsTest : public TlsTest {
 protected:
  static void SetUpTestSuite() {
    TlsTest::SetUpTestSuite();
    etcd_ = new TlsEtcd(dir_->path(), *certs_);
  }
  static void TearDownTestSuite() {
    delete etcd_;
    etcd_ = nullptr;
    TlsTest::TearDownTestSuite();
  }

  static TlsEtcd* etcd_;
};

TlsEtcd* EtcdTlsTest::etcd_ = nullptr;

TEST_F(TlsTest, MakeLoadsTheCaAndTheClientCertificate) {
  auto with = TlsClient::make(
      {certs_->pem("ca.pem"), certs_->pem("client.pem"), certs_->pem("client.key")});
  ASSERT_TRUE(with) << with.error().message;
  EXPECT_TRUE((*with)->has_client_certificate());
  auto without = TlsClient::make({certs_->pem("ca.pem"), {}, {}});
  ASSERT_TRUE(without) << without.error().message;
  EXPECT_FALSE((*without)->has_client_certificate());
}

TEST_F(TlsTest, MakeRejectsWhatDoesNotLoad) {
  const auto ca = certs_->pem("ca.pem");
  const auto cert = certs_->pem("client.pem");
  const auto key = certs_->pem("client.key");
  const std::map<std::string, TlsClientConfig> bad = {
      {"no CA", {"", cert, key}},
      {"CA not PEM", {"not a certificate", cert, key}},
      {"CA is a key", {key, cert, key}},
      {"certificate not PEM", {ca, "garbage", key}},
      {"key not PEM", {ca, cert, "garbage"}},
      {"certificate without key", {ca, cert, ""}},
      {"key without certificate", {ca, "", key}},
      {"key of another certificate", {ca, cert, certs_->pem("server.key")}},
      {"encrypted key", {ca, cert, certs_->pem("client-encrypted.key")}},
  };
  for (const auto& [name, config] : bad) {
    auto made = TlsClient::make(config);
    ASSERT_FALSE(made) << name;
    EXPECT_TRUE(contains(made.error().message, "TLS client")) << made.error().message;
  }
}

TEST(EndpointFromHttpsUrlTest, NeedsATlsClient) {
  auto refused = endpoint_from_url("https://127.0.0.1:2379");
  ASSERT_FALSE(refused);
  EXPECT_TRUE(contains(refused.error().message, "needs the CA and a client certificate"))
      << refused.error().message;
  EXPECT_TRUE(contains(refused.error().message, "https://127.0.0.1:2379"));
}

TEST_F(TlsTest, HttpsUrlCarriesTheTlsClientAndHttpDoesNot) {
  auto client = tls("ca", true);
  auto https = endpoint_from_url("https://[::1]:2379/", client);
  ASSERT_TRUE(https) << https.error().message;
  EXPECT_EQ(https->host, "::1");
  EXPECT_EQ(https->port, 2379);
  EXPECT_EQ(https->tls, client);
  EXPECT_EQ(https->to_string(), "::1:2379");
  auto http = endpoint_from_url("http://127.0.0.1:2379", client);
  ASSERT_TRUE(http) << http.error().message;
  EXPECT_FALSE(http->tls);
  EXPECT_FALSE(endpoint_from_url("https://h:2379/v3", client));
  EXPECT_FALSE(endpoint_from_url("ftp://h:2379", client));
  // Equal only with the same TLS client (or none on both sides).
  EXPECT_TRUE(*https == (Endpoint{"::1", 2379, client}));
  EXPECT_FALSE(*https == (Endpoint{"::1", 2379}));
}

TEST_F(TlsTest, KeptAliveConnectionsAndStreamsRefuseTls) {
  // A port nobody listens on: the refusal must come before any connect.
  const Endpoint to{"127.0.0.1", free_port(), tls("ca", true)};
  HttpConnection connection(ioc_.get_executor(), to);
  auto answer =
      run_coro(ioc_, connection.request(make_request(http::verb::get, "/", to), milliseconds(500)));
  ASSERT_FALSE(answer);
  EXPECT_TRUE(contains(answer.error().message, "TLS is not supported on kept-alive connections"))
      << answer.error().message;
  auto stream =
      run_coro(ioc_, HttpStream::open(ioc_.get_executor(), to,
                                      make_request(http::verb::get, "/", to), milliseconds(500)));
  ASSERT_FALSE(stream);
  EXPECT_TRUE(contains(stream.error().message, "TLS is not supported")) << stream.error().message;
}

// A server that accepts and never says a word: the handshake is bounded by
// the request's timeout.
TEST_F(TlsTest, HandshakeWithASilentServerTimesOut) {
  using boost::asio::ip::tcp;
  tcp::acceptor acceptor(ioc_, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  tcp::socket accepted(ioc_);
  acceptor.async_accept(accepted, [](boost::system::error_code) {});
  const Endpoint to{"127.0.0.1", acceptor.local_endpoint().port(), tls("ca", true)};
  const auto started = std::chrono::steady_clock::now();
  auto answer = run_coro(ioc_,
                         http_request(ioc_.get_executor(), to,
                                      make_request(http::verb::get, "/", to), milliseconds(300)),
                         seconds(5));
  ASSERT_FALSE(answer);
  EXPECT_TRUE(contains(answer.error().message, "TLS handshake with " + to.to_string()))
      << answer.error().message;
  EXPECT_TRUE(contains(answer.error().message, "timed out")) << answer.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - started, seconds(3));
}

// A plain HTTP server answers the ClientHello with a 400 and closes.
TEST_F(TlsTest, HandshakeWithAPlainHttpServerFails) {
  HttpServer server(
      ioc_.get_executor(), [](HttpExchange& exchange) -> boost::asio::awaitable<void> {
        co_await exchange.respond(make_response(exchange.request(), http::status::ok, "{}"));
      });
  auto bound = server.listen(Endpoint{"127.0.0.1", 0});
  ASSERT_TRUE(bound) << bound.error().message;
  const Endpoint to{"127.0.0.1", bound->port, tls("ca", true)};
  auto answer = run_coro(ioc_, http_request(ioc_.get_executor(), to,
                                            make_request(http::verb::get, "/", to), seconds(2)));
  server.stop();
  ASSERT_FALSE(answer);
  EXPECT_TRUE(contains(answer.error().message, "TLS handshake with " + to.to_string() + " failed"))
      << answer.error().message;
}

TEST_F(EtcdTlsTest, ClientCertificateGetsStatusPutAndGet) {
  auto endpoint = endpoint_from_url(etcd_->url(), tls("ca", true));
  ASSERT_TRUE(endpoint) << endpoint.error().message;
  EtcdClient client(ioc_.get_executor(), *endpoint, seconds(5));
  auto status = run_coro(ioc_, client.status());
  ASSERT_TRUE(status) << status.error().message;
  EXPECT_NE(status->leader, 0u);
  auto put = run_coro(ioc_, client.put("tls-key", "over TLS"));
  ASSERT_TRUE(put) << put.error().message;
  auto got = run_coro(ioc_, client.get("tls-key"));
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->value_or("absent"), "over TLS");
  auto members = run_coro(ioc_, client.member_list());
  ASSERT_TRUE(members) << members.error().message;
  EXPECT_EQ(members->size(), 1u);
}

// etcd with --client-cert-auth refuses a client without a certificate (in
// TLS 1.3 after the client's side of the handshake is done, so the failure
// may show when the response is read).
TEST_F(EtcdTlsTest, WithoutAClientCertificateEtcdRefuses) {
  EtcdClient client(ioc_.get_executor(), Endpoint{"127.0.0.1", etcd_->port(), tls("ca", false)},
                    seconds(5));
  auto status = run_coro(ioc_, client.status());
  ASSERT_FALSE(status);
  EXPECT_TRUE(contains(status.error().message, "127.0.0.1:" + std::to_string(etcd_->port())))
      << status.error().message;
  EXPECT_EQ(status.error().code, 0) << status.error().message;
}

TEST_F(EtcdTlsTest, ServerFromAnotherCaFailsVerification) {
  EtcdClient client(ioc_.get_executor(),
                    Endpoint{"127.0.0.1", etcd_->port(), tls("other-ca", true)}, seconds(5));
  auto status = run_coro(ioc_, client.status());
  ASSERT_FALSE(status);
  const auto& message = status.error().message;
  EXPECT_TRUE(contains(message, "TLS handshake with 127.0.0.1:" + std::to_string(etcd_->port()) +
                                    " failed: certificate verify failed"))
      << message;
  EXPECT_TRUE(contains(message, "local issuer")) << message;
}

// etcd also listens on 127.0.0.2, with the certificate for 127.0.0.1.
TEST_F(EtcdTlsTest, CertificateForAnotherAddressFailsTheNameCheck) {
  EtcdClient client(ioc_.get_executor(),
                    Endpoint{"127.0.0.2", etcd_->other_port(), tls("ca", true)}, seconds(5));
  auto status = run_coro(ioc_, client.status());
  ASSERT_FALSE(status);
  EXPECT_TRUE(contains(status.error().message, "certificate verify failed"))
      << status.error().message;
  EXPECT_TRUE(contains(status.error().message, "IP address mismatch")) << status.error().message;
}

// A DNS name is checked against the certificate's DNS names, which this one
// has none of (it names 127.0.0.1 only).
TEST_F(EtcdTlsTest, NameThatTheCertificateDoesNotCarryFails) {
  EtcdClient client(ioc_.get_executor(), Endpoint{"localhost", etcd_->port(), tls("ca", true)},
                    seconds(5));
  auto status = run_coro(ioc_, client.status());
  ASSERT_FALSE(status);
  EXPECT_TRUE(contains(status.error().message, "hostname mismatch")) << status.error().message;
}

// Plain HTTP to the TLS port: etcd answers 400, and nothing waits for a
// response that never comes.
TEST_F(EtcdTlsTest, PlainHttpToTheTlsPortIsAnErrorNotAHang) {
  EtcdClient client(ioc_.get_executor(), Endpoint{"127.0.0.1", etcd_->port()}, seconds(3));
  const auto started = std::chrono::steady_clock::now();
  auto status = run_coro(ioc_, client.status(), seconds(10));
  ASSERT_FALSE(status);
  EXPECT_LT(std::chrono::steady_clock::now() - started, seconds(5));
}

}  // namespace
}  // namespace etcdmesos::io
