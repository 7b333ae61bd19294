// The gateway's command line, the listen address and the proxy's flags.
#include "proxy/gateway_command.hpp"
#include "proxy/options.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace etcdmesos::proxy {
namespace {

using namespace std::chrono_literals;

TEST(GatewayArgv, EndpointsListenAddressAndRetryDelay) {
  GatewayCommand command{"/usr/bin/etcd", "127.0.0.1:23790", 2000ms};
  EXPECT_EQ(gateway_argv(command, {"10.0.0.5:31001", "10.0.0.6:31003"}),
            (std::vector<std::string>{"/usr/bin/etcd", "gateway", "start",
                                      "--endpoints=10.0.0.5:31001,10.0.0.6:31003",
                                      "--listen-addr=127.0.0.1:23790", "--retry-delay=2s"}));
}

// Issue 13: with a certificate of the cluster's CA, grpc-proxy speaks TLS
// with the members, and serves TLS too when asked.
TEST(GatewayArgv, WithACertificateGrpcProxySpeaksTlsToTheMembers) {
  GatewayCommand command{"/usr/bin/etcd", "127.0.0.1:23790", 2000ms};
  command.cert_file = "/p/proxy.crt";
  command.key_file = "/p/proxy.key";
  command.ca_file = "/p/ca.crt";
  EXPECT_EQ(gateway_argv(command, {"10.0.0.5:31001"}),
            (std::vector<std::string>{"/usr/bin/etcd", "grpc-proxy", "start",
                                      "--endpoints=10.0.0.5:31001", "--listen-addr=127.0.0.1:23790",
                                      "--cert=/p/proxy.crt", "--key=/p/proxy.key",
                                      "--cacert=/p/ca.crt"}));
  command.serve_tls = true;
  command.data_dir = "/p/data/grpc-proxy";
  const auto argv = gateway_argv(command, {"10.0.0.5:31001"});
  for (const char* flag : {"--cert-file=/p/proxy.crt", "--key-file=/p/proxy.key",
                           "--trusted-ca-file=/p/ca.crt", "--data-dir=/p/data/grpc-proxy"}) {
    EXPECT_NE(std::find(argv.begin(), argv.end(), flag), argv.end()) << flag;
  }
}

TEST(GoDuration, SecondsWhenWholeElseMilliseconds) {
  EXPECT_EQ(go_duration(2000ms), "2s");
  EXPECT_EQ(go_duration(60s), "60s");
  EXPECT_EQ(go_duration(1500ms), "1500ms");
  EXPECT_EQ(go_duration(100ms), "100ms");
}

TEST(ListenAddress, OneHttpUrlWithHostAndPort) {
  EXPECT_EQ(*listen_address_from_urls("http://localhost:2379"), "localhost:2379");
  EXPECT_EQ(*listen_address_from_urls("http://127.0.0.1:40000/"), "127.0.0.1:40000");
  EXPECT_EQ(*listen_address_from_urls("http://[::1]:2379"), "[::1]:2379");
  EXPECT_EQ(*listen_address_from_urls("https://127.0.0.1:2379"), "127.0.0.1:2379");
  EXPECT_TRUE(listens_with_tls("https://127.0.0.1:2379"));
  EXPECT_FALSE(listens_with_tls("http://127.0.0.1:2379"));
  for (const char* bad : {"", "localhost:2379", "ftp://localhost:2379", "http://localhost",
                          "http://a:1,http://b:2", "http://localhost:0", "http://localhost:99999",
                          "http://localhost:2379/v3", "unix:///tmp/etcd.sock", "http://:2379"}) {
    EXPECT_FALSE(listen_address_from_urls(bad)) << bad;
  }
}

Result<ProxyOptions> parse(std::vector<std::string> args) {
  std::vector<const char*> argv{"etcd-mesos-proxy"};
  for (const auto& a : args) {
    argv.push_back(a.c_str());
  }
  return parse_proxy_options(static_cast<int>(argv.size()), argv.data());
}

TEST(ProxyOptions, DefaultsFollowTheMasterOnLocalhost) {
  auto o = parse({});
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(o->master, "127.0.0.1:5050");
  EXPECT_EQ(o->framework_name, "etcd");
  EXPECT_EQ(o->listen_client_urls, "http://localhost:2379");
  EXPECT_EQ(o->poll_interval(), 5000ms);
  EXPECT_TRUE(o->members_url.empty());
  EXPECT_TRUE(o->data_dir.empty());
}

TEST(ProxyOptions, GoStyleAndDoubleDashSpellings) {
  auto o =
      parse({"-master=zk://127.0.0.1:2181/mesos", "--framework-name", "prod", "-poll-interval=0.5",
             "-listen-client-urls=http://127.0.0.1:23790", "-data-dir=/var/lib/etcd-proxy"});
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(o->master, "zk://127.0.0.1:2181/mesos");
  EXPECT_EQ(o->framework_name, "prod");
  EXPECT_EQ(o->poll_interval(), 500ms);
  EXPECT_EQ(o->data_dir, "/var/lib/etcd-proxy");
}

TEST(ProxyOptions, MembersUrlReplacesTheMaster) {
  auto o = parse({"-members-url=http://127.0.0.1:23400/members"});
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(o->members_url, "http://127.0.0.1:23400/members");
  EXPECT_FALSE(parse({"-master=h:1", "-members-url=http://h:2/members"}));
  EXPECT_FALSE(parse({"-members-url=https://h:2/members"}));
}

TEST(ProxyOptions, TheCertificateFlagsGoTogetherAndMustBeReadable) {
  const std::string readable = "/etc/hostname";
  auto all = parse({"-cert-file=" + readable, "-key-file=" + readable, "-ca-file=" + readable,
                    "-listen-client-urls=https://127.0.0.1:2379"});
  ASSERT_TRUE(all) << all.error().message;
  EXPECT_EQ(all->ca_file, readable);
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"-cert-file=" + readable},
           {"-cert-file=" + readable, "-key-file=" + readable},
           {"-cert-file=/nonexistent/p.crt", "-key-file=" + readable, "-ca-file=" + readable},
           {"-listen-client-urls=https://127.0.0.1:2379"}}) {
    auto o = parse(args);
    ASSERT_FALSE(o) << args[0];
    EXPECT_NE(o.error().message.find("-"), std::string::npos) << o.error().message;
  }
}

TEST(ProxyOptions, BadValuesAreReadableErrors) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"-poll-interval=0"},
                                             {"-poll-interval=abc"},
                                             {"-request-timeout=0"},
                                             {"-gateway-retry-delay=-1"},
                                             {"-framework-name="},
                                             {"-listen-client-urls=https://h:1"},
                                             {"-no-such-flag=1"}}) {
    auto o = parse(args);
    ASSERT_FALSE(o) << args[0];
    EXPECT_FALSE(o.error().message.empty()) << args[0];
  }
  auto help = parse({"--help"});
  ASSERT_FALSE(help);
  EXPECT_TRUE(help.error().message.empty());
  EXPECT_NE(proxy_help_text().find("-members-url"), std::string::npos);
}

}  // namespace
}  // namespace etcdmesos::proxy
