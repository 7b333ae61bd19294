// End to end with TLS (issue 13 item 1): the scheduler is given an
// operator's CA; every member makes its own key, gets its certificate
// signed through Mesos framework messages, and serves clients and peers over
// TLS to holders of a certificate of that CA only. The scheduler's health
// checks, member changes and reseeds all go over TLS with its own client
// certificate.
#include "pki/pki.hpp"
#include "support/member_checks.hpp"
#include "support/stack.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <sys/stat.h>
#include <sys/wait.h>

#include <csignal>
#include <fstream>
#include <set>
#include <stdexcept>
#include <thread>

namespace etcdmesos::testing {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

constexpr auto kBringUp = 90s;
constexpr auto kRecovery = 120s;

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// A CA made for the test, its files for the scheduler, and a client
// certificate of it for etcdctl (what an operator would issue a client).
struct TestCa {
  TempDir dir{"etcd-mesos-ca"};
  std::filesystem::path cert = dir.path() / "ca.crt";
  std::filesystem::path key = dir.path() / "ca.key";
  std::filesystem::path client_cert = dir.path() / "client.crt";
  std::filesystem::path client_key = dir.path() / "client.key";
  // For etcd-mesos-proxy: a client of the members and a server on 127.0.0.1.
  std::filesystem::path proxy_cert = dir.path() / "proxy.crt";
  std::filesystem::path proxy_key = dir.path() / "proxy.key";

  TestCa() {
    const auto now = std::chrono::system_clock::now();
    auto ca = pki::make_ca("etcd-mesos test CA", std::chrono::hours(24), now);
    if (!ca) {
      throw std::runtime_error(ca.error().message);
    }
    write_file(cert, ca->cert_pem);
    write_file(key, ca->key_pem);
    auto authority = pki::Authority::load(ca->cert_pem, ca->key_pem);
    if (!authority) {
      throw std::runtime_error(authority.error().message);
    }
    auto client = authority->issue("test-client", {}, {}, std::chrono::hours(1), now);
    if (!client) {
      throw std::runtime_error(client.error().message);
    }
    write_file(client_cert, client->cert_pem);
    write_file(client_key, client->key_pem);
    // etcd's grpc-proxy refuses a client certificate with a common name
    // (with etcd's auth it would act as that user), so this one has none;
    // made with the openssl tool, as an operator would.
    const auto ext = dir.path() / "proxy.ext";
    write_file(ext, "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n");
    const std::string d = dir.path().string();
    ChildProcess make_proxy_cert(
        {"/bin/sh", "-c",
         "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
         "-subj /O=etcd-mesos-proxy -keyout " +
             d + "/proxy.key -out " + d +
             "/proxy.csr && "
             "openssl x509 -req -in " +
             d + "/proxy.csr -CA " + d + "/ca.crt -CAkey " + d +
             "/ca.key -CAcreateserial -days 1 -extfile " + ext.string() + " -out " + d +
             "/proxy.crt"},
        dir.path() / "openssl");
    const auto made = make_proxy_cert.wait(std::chrono::seconds(30));
    if (!made || !WIFEXITED(*made) || WEXITSTATUS(*made) != 0) {
      throw std::runtime_error("openssl: " + make_proxy_cert.stderr_text());
    }
  }

  std::vector<std::string> scheduler_args() const {
    return {"-etcd-ca-cert-file=" + cert.string(), "-etcd-ca-key-file=" + key.string()};
  }
  // etcdctl flags: trust the CA, and present the client certificate.
  std::vector<std::string> with_certificate() const {
    return {"--cacert=" + cert.string(), "--cert=" + client_cert.string(),
            "--key=" + client_key.string()};
  }
};

std::vector<std::string> plus(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

StackOptions options(const TestCa& ca, std::vector<std::string> args, int agents = 3) {
  StackOptions o;
  o.agents = agents;
  o.scheduler_args = plus(ca.scheduler_args(), args);
  return o;
}

// etcdctl through member `m` with the client certificate.
CommandResult ctl(LocalStack& stack, const TestCa& ca, const json::value& m,
                  std::vector<std::string> args) {
  return etcdctl(stack.work_dir(), str(m, "client_url"), plus(ca.with_certificate(), args));
}

// Every member reads `key` as `value` (a linearizable read through each).
void expect_value_everywhere(LocalStack& stack, const TestCa& ca, const std::string& key,
                             const std::string& value) {
  for (const auto& m : stack.members()) {
    auto got = ctl(stack, ca, m, {"get", key, "--print-value-only"});
    EXPECT_TRUE(got.ok) << str(m, "name") << ": " << got.output;
    EXPECT_NE(got.output.find(value), std::string::npos) << str(m, "name") << ": " << got.output;
  }
}

// The healthy cluster of `size`, every member's etcd listing all of them
// (asked over TLS), every client URL https.
bool complete(LocalStack& stack, const TestCa& ca, std::size_t size) {
  if (!stack.healthy_with(size)) {
    return false;
  }
  const auto members = stack.members();
  for (const auto& m : members) {
    if (!str(m, "client_url").starts_with("https://")) {
      return false;
    }
    auto listed = ctl(stack, ca, m, {"member", "list"});
    if (!listed.ok) {
      return false;
    }
    for (const auto& other : members) {
      if (listed.output.find(str(other, "name")) == std::string::npos) {
        return false;
      }
    }
  }
  return true;
}

// Every file under `root` (below 8 MiB) whose content contains `needle`.
std::vector<std::filesystem::path> files_containing(const std::filesystem::path& root,
                                                    const std::string& needle) {
  std::vector<std::filesystem::path> found;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(
           root, std::filesystem::directory_options::skip_permission_denied, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code size_ec;
    if (!it->is_regular_file(size_ec) || it->file_size(size_ec) > 8 * 1024 * 1024) {
      continue;
    }
    if (read_file(it->path()).find(needle) != std::string::npos) {
      found.push_back(it->path());
    }
  }
  return found;
}

TEST(Tls, MembersServeOnlyClientsWithACertificateOfTheCA) {
  TestCa ca;
  LocalStack stack(options(ca, {}));
  ASSERT_TRUE(wait_until([&] { return complete(stack, ca, 3); }, kBringUp)) << stack.logs();
  const auto members = stack.members();
  EXPECT_EQ(stack.scheduler_log().find("no CA"), std::string::npos)
      << "the unauthenticated warning is for schedulers without a CA";

  auto put = ctl(stack, ca, members[0], {"put", "tls-key", "secret-value"});
  ASSERT_TRUE(put.ok) << put.output;
  expect_value_everywhere(stack, ca, "tls-key", "secret-value");

  for (const auto& m : members) {
    const auto url = str(m, "client_url");
    // Trusting the CA is not enough: no client certificate, no answer.
    auto anonymous =
        etcdctl(stack.work_dir(), url, {"--cacert=" + ca.cert.string(), "get", "tls-key"});
    EXPECT_FALSE(anonymous.ok) << url << ": " << anonymous.output;
    EXPECT_EQ(anonymous.output.find("secret-value"), std::string::npos);
    // Nor over plain HTTP (etcd answers a plain request on a TLS port with
    // a 400, at most).
    const auto host_port = url.substr(std::string("https://").size());
    const auto colon = host_port.rfind(':');
    auto plain = http_call("POST", host_port.substr(0, colon),
                           static_cast<uint16_t>(std::stoi(host_port.substr(colon + 1))),
                           "/v3/kv/range", R"({"key":"dGxzLWtleQ=="})");
    EXPECT_TRUE(!plain || plain->status != 200) << url << " answered plain HTTP";
    if (plain) {
      EXPECT_EQ(plain->body.find("c2VjcmV0LXZhbHVl"), std::string::npos);
    }
  }

  // Each member's private key exists once, in its own sandbox, readable by
  // its owner only: no log, no other sandbox, nothing of the scheduler's
  // holds it.
  std::vector<std::filesystem::path> keys;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(stack.work_dir(), ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->path().filename() == "member.key") {
      keys.push_back(it->path());
    }
  }
  ASSERT_EQ(keys.size(), 3u);
  std::set<std::filesystem::path> sandboxes;
  for (const auto& key : keys) {
    sandboxes.insert(key.parent_path().parent_path());
    struct stat st {};
    ASSERT_EQ(::stat(key.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 077, 0u) << key << " is readable by others";
    const auto pem = read_file(key);
    // One line of the key's base64 body: it appears nowhere else.
    const auto first = pem.find('\n') + 1;
    const auto line = pem.substr(first, pem.find('\n', first) - first);
    ASSERT_GE(line.size(), 40u);
    const auto holders = files_containing(stack.work_dir(), line);
    EXPECT_EQ(holders, std::vector<std::filesystem::path>{key});
  }
  EXPECT_EQ(sandboxes.size(), 3u) << "one key per sandbox";
}

TEST(Tls, AReplacementAndAReseedCompleteWithTlsOn) {
  TestCa ca;
  LocalStack stack(options(ca, {"-etcd-restart-attempts=0", "-reseed-timeout=5"}, 4));
  ASSERT_TRUE(wait_until([&] { return complete(stack, ca, 3); }, kBringUp)) << stack.logs();
  const auto before = stack.members();
  auto put = ctl(stack, ca, before[0], {"put", "kept", "through-everything"});
  ASSERT_TRUE(put.ok) << put.output;

  // One member lost: it is removed over TLS and a new member joins with a
  // certificate of its own.
  const auto lost = str(before[0], "name");
  ASSERT_TRUE(signal_member(before[0], SIGKILL));
  ASSERT_TRUE(wait_until(
      [&] { return !names_of(stack.members()).contains(lost) && complete(stack, ca, 3); },
      kRecovery))
      << stack.logs();
  expect_value_everywhere(stack, ca, "kept", "through-everything");

  // A majority lost: the survivor seeds a new cluster over TLS, which grows
  // back with new certificates.
  const auto now = stack.members();
  ASSERT_TRUE(signal_member(now[0], SIGKILL));
  ASSERT_TRUE(signal_member(now[1], SIGKILL));
  ASSERT_TRUE(wait_until(
      [&] {
        return stat(stack, "cluster_reseeds") == 1 && stat(stack, "reseeding") == 0 &&
               complete(stack, ca, 3);
      },
      kRecovery))
      << stack.logs();
  expect_value_everywhere(stack, ca, "kept", "through-everything");
}

// etcd-mesos-proxy with a certificate of the CA runs grpc-proxy, which
// speaks TLS with the members and serves its clients plain, or over TLS.
TEST(Tls, TheProxyWithACertificateServesATlsCluster) {
  TestCa ca;
  LocalStack stack(options(ca, {}));
  ASSERT_TRUE(wait_until([&] { return complete(stack, ca, 3); }, kBringUp)) << stack.logs();
  auto put = ctl(stack, ca, stack.members().at(0), {"put", "through-the-proxy", "tls-behind"});
  ASSERT_TRUE(put.ok) << put.output;
  const std::string members_url =
      "http://127.0.0.1:" + std::to_string(stack.admin_port()) + "/members";
  for (const bool serve_tls : {false, true}) {
    const uint16_t port = free_port();
    const std::string url =
        std::string(serve_tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(port);
    const auto dir = stack.work_dir() / (serve_tls ? "proxy-tls" : "proxy-plain");
    ChildProcess proxy(
        {project_binary("etcd-mesos-proxy"), "-members-url=" + members_url,
         "-listen-client-urls=" + url, "-poll-interval=1", "-cert-file=" + ca.proxy_cert.string(),
         "-key-file=" + ca.proxy_key.string(), "-ca-file=" + ca.cert.string(),
         "-data-dir=" + (dir / "data").string()},
        dir);
    std::vector<std::string> args;
    if (serve_tls) {
      // grpc-proxy with a trusted CA asks its clients for a certificate too.
      args = ca.with_certificate();
    }
    args.insert(args.end(), {"get", "through-the-proxy", "--print-value-only"});
    CommandResult got;
    EXPECT_TRUE(wait_until(
        [&] {
          got = etcdctl(dir, serve_tls ? url : "127.0.0.1:" + std::to_string(port), args);
          return got.ok && got.output.find("tls-behind") != std::string::npos;
        },
        30s))
        << url << ": " << got.output << proxy.stderr_text();
  }
}

// Certificates valid one minute: each member's is renewed (a new file,
// later expiry) while the same etcd process keeps serving with it, and the
// scheduler renews its own and goes on checking the members.
TEST(Tls, CertificatesAreRenewedWithoutRestartingEtcd) {
  TestCa ca;
  LocalStack stack(options(ca, {"-etcd-cert-validity=0.0167"}));
  ASSERT_TRUE(wait_until([&] { return complete(stack, ca, 3); }, kBringUp)) << stack.logs();
  const auto member = stack.members().at(0);
  const auto pid = etcd_pid(str(member, "client_url"));
  ASSERT_TRUE(pid);
  std::filesystem::path cert_file;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(stack.work_dir(), ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->path().filename() == "member.crt" &&
        read_file(it->path().parent_path().parent_path() / "stderr")
                .find("member '" + str(member, "name") + "'") != std::string::npos) {
      cert_file = it->path();
    }
  }
  ASSERT_FALSE(cert_file.empty()) << "no certificate in " << str(member, "name") << "'s sandbox";
  const auto first = pki::read_certificate(read_file(cert_file));
  ASSERT_TRUE(first) << first.error().message;

  // Renewed halfway through its minute (its five backdated minutes make a
  // third of its lifetime longer than what is left).
  std::optional<pki::CertificateInfo> renewed;
  ASSERT_TRUE(wait_until(
      [&] {
        auto now = pki::read_certificate(read_file(cert_file));
        if (now && now->not_after > first->not_after) {
          renewed = *now;
        }
        return renewed.has_value();
      },
      70s))
      << stack.logs();
  EXPECT_EQ(etcd_pid(str(member, "client_url")), pid) << "etcd was not restarted";
  auto put = ctl(stack, ca, member, {"put", "after-renewal", "yes"});
  EXPECT_TRUE(put.ok) << put.output;
  ASSERT_TRUE(wait_until(
      [&] {
        return stack.scheduler_log().find("renewed the scheduler's own etcd client certificate") !=
               std::string::npos;
      },
      70s));
  // Past the first certificates' end: everything still answers on renewed
  // ones, and the scheduler still sees a healthy cluster.
  std::this_thread::sleep_until(std::chrono::system_clock::now() +
                                (first->not_after - std::chrono::system_clock::now()) + 2s);
  ASSERT_TRUE(wait_until([&] { return complete(stack, ca, 3); }, 30s)) << stack.logs();
  expect_value_everywhere(stack, ca, "after-renewal", "yes");
}

// A CA the scheduler cannot use stops it at start with the reason, before
// anything is launched: a missing file, a certificate that is no CA, a key
// of another CA, garbage.
TEST(Tls, ACAThatDoesNotLoadStopsTheSchedulerWithTheReason) {
  TestCa ca;
  TestCa other;
  const auto garbage = ca.dir.path() / "garbage.pem";
  write_file(garbage, "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n");
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"-etcd-ca-cert-file=" + (ca.dir.path() / "missing.crt").string(),
        "-etcd-ca-key-file=" + ca.key.string()},
       "missing.crt"},
      {{"-etcd-ca-cert-file=" + ca.client_cert.string(),
        "-etcd-ca-key-file=" + ca.client_key.string()},
       "CA"},
      {{"-etcd-ca-cert-file=" + ca.cert.string(), "-etcd-ca-key-file=" + other.key.string()},
       "match"},
      {{"-etcd-ca-cert-file=" + garbage.string(), "-etcd-ca-key-file=" + ca.key.string()},
       "garbage.pem"},
      {{"-etcd-ca-cert-file=" + ca.cert.string()}, "--etcd-ca-key-file"},
  };
  int n = 0;
  for (const auto& [flags, expected] : cases) {
    std::vector<std::string> argv{project_binary("etcd-mesos-scheduler"),
                                  "-master=127.0.0.1:1",
                                  "-address=127.0.0.1",
                                  "-admin-port=0",
                                  "-artifact-port=0",
                                  "-executor-bin=" + project_binary("etcd-mesos-executor")};
    argv.insert(argv.end(), flags.begin(), flags.end());
    ChildProcess scheduler(argv, ca.dir.path() / ("scheduler-" + std::to_string(n++)));
    const auto status = scheduler.wait(20s);
    ASSERT_TRUE(status) << "still running with " << flags[0];
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) != 0) << flags[0];
    const auto err = scheduler.stderr_text();
    EXPECT_NE(err.find("etcd-ca"), std::string::npos) << err;
    EXPECT_NE(err.find(expected), std::string::npos) << "expected '" << expected << "' in " << err;
  }
}

TEST(Tls, WithoutACATheSchedulerSaysOnceThatMembersAreUnauthenticated) {
  StackOptions o;
  o.agents = 3;
  LocalStack stack(o);
  ASSERT_TRUE(wait_until([&] { return stack.healthy_with(3); }, kBringUp)) << stack.logs();
  const auto log = stack.scheduler_log();
  const auto first = log.find("no CA (--etcd-ca-cert-file)");
  ASSERT_NE(first, std::string::npos) << log;
  EXPECT_EQ(log.find("no CA (--etcd-ca-cert-file)", first + 1), std::string::npos) << "once";
  for (const auto& m : stack.members()) {
    EXPECT_TRUE(str(m, "client_url").starts_with("http://"));
  }
}

// Backups (issue 14) with TLS on: the snapshot is streamed over TLS with the
// scheduler's own client certificate, and the file is etcd's.
TEST(Tls, BackupsAreTakenOverTls) {
  TestCa ca;
  TempDir backups("backups");
  LocalStack stack(
      options(ca, {"-backup-dir=" + backups.path().string(), "-backup-interval=3600"}));
  ASSERT_TRUE(wait_until([&] { return complete(stack, ca, 3); }, kBringUp)) << stack.logs();
  auto put = ctl(stack, ca, stack.members()[0], {"put", "tls-backup-key", "kept"});
  ASSERT_TRUE(put.ok) << put.output;
  auto posted = stack.admin_call("POST", "/backup");
  ASSERT_TRUE(posted);
  if (posted->status == 409) {
    // The first scheduled one may still run: wait for it, then ask again.
    ASSERT_NE(posted->body.find("already under way"), std::string::npos) << posted->body;
  }
  json::object backup;
  ASSERT_TRUE(wait_until(
      [&] {
        backup = stack.health()["backup"].as_object();
        return backup.contains("successes") && backup.at("successes").to_number<int64_t>() >= 1 &&
               !backup.at("in_progress").as_bool();
      },
      60s))
      << json::serialize(backup) << "\n"
      << stack.logs();
  EXPECT_EQ(backup.at("failures").to_number<int64_t>(), 0) << json::serialize(backup);
  const auto file = backups.path() / std::string(backup.at("last_file").as_string());
  auto status = etcdctl(stack.work_dir(), "127.0.0.1:1", {"snapshot", "status", file.string()});
  EXPECT_TRUE(status.ok) << status.output;
}

}  // namespace
}  // namespace etcdmesos::testing
