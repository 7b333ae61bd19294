// The etcd command line and environment for a member (reference etcd §2).
#include "executor/etcd_command.hpp"
#include "codec/task_data.hpp"
#include "executor/executor.hpp"
#include "support/processes.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

namespace etcdmesos::executor {
namespace {

MemberTaskData member() {
  MemberTaskData d;
  d.name = "m2";
  d.host = "10.0.0.5";
  d.peer_port = 31002;
  d.client_port = 31001;
  d.initial_cluster = "m1=http://10.0.0.4:31002,m2=http://10.0.0.5:31002";
  d.cluster_state = "existing";
  d.cluster_token = "c1-7f3a";
  return d;
}

TEST(EtcdArgv, CarriesEveryMemberFlag) {
  const auto argv = etcd_argv(member(), "/sandbox/etcd", "/sandbox/etcd-data");
  const std::vector<std::string> expected = {
      "/sandbox/etcd",
      "--name=m2",
      "--data-dir=/sandbox/etcd-data",
      "--listen-client-urls=http://10.0.0.5:31001",
      "--advertise-client-urls=http://10.0.0.5:31001",
      "--listen-peer-urls=http://10.0.0.5:31002",
      "--initial-advertise-peer-urls=http://10.0.0.5:31002",
      "--initial-cluster=m1=http://10.0.0.4:31002,m2=http://10.0.0.5:31002",
      "--initial-cluster-state=existing",
      "--initial-cluster-token=c1-7f3a",
      "--logger=zap",
      "--log-outputs=stderr",
  };
  EXPECT_EQ(argv, expected);
}

// Issue 13: auto-compaction and the backend quota, when the task names them.
TEST(EtcdArgv, CompactionAndQuotaComeFromTheTask) {
  MemberTaskData d = member();
  d.auto_compaction_mode = "revision";
  d.auto_compaction_retention = "1000";
  d.quota_backend_bytes = 268435456;
  const auto argv = etcd_argv(d, "/sandbox/etcd", "/sandbox/etcd-data");
  for (const char* flag : {"--auto-compaction-mode=revision", "--auto-compaction-retention=1000",
                           "--quota-backend-bytes=268435456"}) {
    EXPECT_NE(std::find(argv.begin(), argv.end(), flag), argv.end()) << flag;
  }
  const auto plain = etcd_argv(member(), "/sandbox/etcd", "/sandbox/etcd-data");
  EXPECT_EQ(std::count_if(plain.begin(), plain.end(),
                          [](const std::string& a) {
                            return a.starts_with("--auto-compaction") || a.starts_with("--quota");
                          }),
            0);
}

// Issue 13: with the member's certificate, https URLs and client
// certificates required on both ports.
TEST(EtcdArgv, WithTlsFilesEveryUrlIsHttpsAndCertificatesAreRequired) {
  const TlsFiles files{"/sandbox/tls/member.crt", "/sandbox/tls/member.key", "/sandbox/tls/ca.crt"};
  const auto argv =
      etcd_argv(member(), "/sandbox/etcd", "/sandbox/etcd-data", EtcdStart::kNormal, &files);
  for (const char* flag :
       {"--listen-client-urls=https://10.0.0.5:31001",
        "--advertise-client-urls=https://10.0.0.5:31001",
        "--listen-peer-urls=https://10.0.0.5:31002",
        "--initial-advertise-peer-urls=https://10.0.0.5:31002",
        "--cert-file=/sandbox/tls/member.crt", "--key-file=/sandbox/tls/member.key",
        "--trusted-ca-file=/sandbox/tls/ca.crt", "--client-cert-auth",
        "--peer-cert-file=/sandbox/tls/member.crt", "--peer-key-file=/sandbox/tls/member.key",
        "--peer-trusted-ca-file=/sandbox/tls/ca.crt", "--peer-client-cert-auth"}) {
    EXPECT_NE(std::find(argv.begin(), argv.end(), flag), argv.end()) << flag;
  }
  const auto plain = etcd_argv(member(), "/sandbox/etcd", "/sandbox/etcd-data");
  EXPECT_EQ(std::count_if(plain.begin(), plain.end(),
                          [](const std::string& a) {
                            return a.find("https") != std::string::npos ||
                                   a.find("cert") != std::string::npos;
                          }),
            0);
}

// Each member of a static bootstrap starts with every member in its initial
// cluster and state new, as the scheduler wrote them into the task.
TEST(EtcdArgv, AStaticBootstrapMemberNamesEveryMemberAndStartsNew) {
  const std::string initial =
      "etcd-1=http://10.0.0.1:31000,etcd-2=http://10.0.0.2:31000,etcd-3=http://10.0.0.3:31000";
  for (int i = 1; i <= 3; ++i) {
    MemberTaskData d;
    d.name = "etcd-" + std::to_string(i);
    d.host = "10.0.0." + std::to_string(i);
    d.peer_port = 31000;
    d.client_port = 31001;
    d.initial_cluster = initial;
    d.cluster_state = "new";
    d.cluster_token = "etcd-5eed";
    auto decoded = decode_member_task_data(encode(d));
    ASSERT_TRUE(decoded) << decoded.error().message;
    const auto argv = etcd_argv(*decoded, "/sandbox/etcd", "/sandbox/etcd-data");
    auto has = [&](const std::string& flag) {
      return std::find(argv.begin(), argv.end(), flag) != argv.end();
    };
    EXPECT_TRUE(has("--initial-cluster=" + initial));
    EXPECT_TRUE(has("--initial-cluster-state=new"));
    EXPECT_TRUE(has("--initial-cluster-token=etcd-5eed"));
    EXPECT_TRUE(has("--name=etcd-" + std::to_string(i)));
    EXPECT_TRUE(has("--initial-advertise-peer-urls=http://10.0.0." + std::to_string(i) + ":31000"));
    EXPECT_FALSE(has("--force-new-cluster"));
  }
}

TEST(EtcdArgv, BracketsAnIpv6Host) {
  auto d = member();
  d.host = "fd00::5";
  const auto argv = etcd_argv(d, "etcd", "data");
  EXPECT_NE(std::find(argv.begin(), argv.end(), "--listen-client-urls=http://[fd00::5]:31001"),
            argv.end());
}

TEST(EtcdEnvironment, RemovesEtcdAndMesosVariablesAndKeepsTheRest) {
  const auto env = etcd_environment({{"PATH", "/usr/bin:/bin"},
                                     {"ETCD_NAME", "x"},
                                     {"ETCD_INITIAL_CLUSTER", "y"},
                                     {"ETCDCTL_API", "3"},
                                     {"MESOS_SANDBOX", "/s"},
                                     {"MESOS_EXECUTOR_AUTHENTICATION_TOKEN", "jwt"},
                                     {"LIBPROCESS_IP", "10.0.0.1"},
                                     {"MY_ETCD_NAME", "kept"},
                                     {"HOME", "/home/etcd"}});
  const std::map<std::string, std::string> expected = {{"PATH", "/usr/bin:/bin"},
                                                       {"ETCDCTL_API", "3"},
                                                       {"MY_ETCD_NAME", "kept"},
                                                       {"HOME", "/home/etcd"}};
  EXPECT_EQ(env, expected);
}

TEST(Sandbox, FromMesosSandboxThenMesosDirectoryThenCwd) {
  EXPECT_EQ(sandbox_from({{"MESOS_SANDBOX", "/a"}, {"MESOS_DIRECTORY", "/b"}}), "/a");
  EXPECT_EQ(sandbox_from({{"MESOS_DIRECTORY", "/b"}}), "/b");
  EXPECT_EQ(sandbox_from({{"MESOS_SANDBOX", ""}}), std::filesystem::current_path());
}

TEST(DefaultEtcdBin, PrefersTheOneShippedInTheSandbox) {
  etcdmesos::testing::TempDir sandbox("etcd-bin");
  EXPECT_EQ(default_etcd_bin(sandbox.path()), "/usr/bin/etcd");
  std::ofstream(sandbox.path() / "etcd") << "#!/bin/sh\n";
  EXPECT_EQ(default_etcd_bin(sandbox.path()), (sandbox.path() / "etcd").string());
}

TEST(RestoreArgv, RestoresAsTheMemberAloneWithTheTasksToken) {
  MemberTaskData d = member();
  const auto argv = restore_argv(d, "/sandbox/etcdctl", "/sandbox/s.db", "/sandbox/etcd-data");
  const std::vector<std::string> expected{"/sandbox/etcdctl",
                                          "snapshot",
                                          "restore",
                                          "/sandbox/s.db",
                                          "--name=m2",
                                          "--initial-cluster=m2=http://10.0.0.5:31002",
                                          "--initial-cluster-token=c1-7f3a",
                                          "--initial-advertise-peer-urls=http://10.0.0.5:31002",
                                          "--data-dir=/sandbox/etcd-data"};
  EXPECT_EQ(argv, expected);
  d.tls = true;
  const auto tls = restore_argv(d, "etcdctl", "s.db", "data");
  EXPECT_NE(std::find(tls.begin(), tls.end(), "--initial-cluster=m2=https://10.0.0.5:31002"),
            tls.end());
}

TEST(RestoreArgv, TheEnvironmentAsksForApiThreeAndDropsOtherEtcdctlSettings) {
  const auto env = restore_environment(
      {{"ETCDCTL_ENDPOINTS", "x"}, {"ETCDCTL_API", "2"}, {"ETCD_NAME", "y"}, {"PATH", "/bin"}});
  const std::map<std::string, std::string> expected{{"ETCDCTL_API", "3"}, {"PATH", "/bin"}};
  EXPECT_EQ(env, expected);
}

}  // namespace
}  // namespace etcdmesos::executor
