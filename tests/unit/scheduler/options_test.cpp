#include "scheduler/options.hpp"

#include "codec/task_data.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace etcdmesos::scheduler {
namespace {

Result<Options> parse(std::vector<const char*> args) {
  args.insert(args.begin(), "etcd-mesos-scheduler");
  return parse_options(static_cast<int>(args.size()), args.data());
}

TEST(Options, DefaultsMatchTheOriginal) {
  auto o = parse({});
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(o->cluster_size, 3u);
  EXPECT_EQ(o->admin_port, 23400);
  EXPECT_TRUE(o->single_instance_per_slave);
  EXPECT_EQ(o->failover_timeout_seconds, 604800);
  EXPECT_EQ(o->bootstrap_window_seconds, 2);
}

TEST(Options, AcceptsGoStyleAndGnuStyle) {
  auto go = parse({"-cluster-size=5", "-master=zk://127.0.0.1:2181/mesos",
                   "-single-instance-per-slave=false", "-admin-port", "8080"});
  ASSERT_TRUE(go) << go.error().message;
  EXPECT_EQ(go->cluster_size, 5u);
  EXPECT_EQ(go->master, "zk://127.0.0.1:2181/mesos");
  EXPECT_FALSE(go->single_instance_per_slave);
  EXPECT_EQ(go->admin_port, 8080);

  auto gnu = parse({"--cluster-size", "1", "--framework-name=etcd-a"});
  ASSERT_TRUE(gnu) << gnu.error().message;
  EXPECT_EQ(gnu->cluster_size, 1u);
  EXPECT_EQ(gnu->framework_name, "etcd-a");
}

TEST(Options, RejectsBadInputWithAReadableMessage) {
  auto unknown = parse({"--no-such-flag"});
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("no-such-flag"), std::string::npos);
  auto unknown_go = parse({"-no-such-flag=1"});
  ASSERT_FALSE(unknown_go);
  EXPECT_NE(unknown_go.error().message.find("no-such-flag"), std::string::npos);
  EXPECT_NE(unknown_go.error().message.find("--help"), std::string::npos);

  auto no_value = parse({"-master"});
  ASSERT_FALSE(no_value);
  EXPECT_NE(no_value.error().message.find("master"), std::string::npos);

  auto not_a_number = parse({"-cluster-size=three"});
  ASSERT_FALSE(not_a_number);
  EXPECT_NE(not_a_number.error().message.find("cluster-size"), std::string::npos);

  auto zero = parse({"--cluster-size=0"});
  ASSERT_FALSE(zero);
  EXPECT_NE(zero.error().message.find("between 1 and 9"), std::string::npos);

  auto port = parse({"--admin-port=70000"});
  ASSERT_FALSE(port);

  auto name = parse({"--framework-name=a/b"});
  ASSERT_FALSE(name);

  // An admin interface others can reach needs a secret, or the risk accepted.
  auto open_admin = parse({"-address=10.0.0.5"});
  ASSERT_FALSE(open_admin);
  EXPECT_NE(open_admin.error().message.find("--admin-secret-file"), std::string::npos);
  EXPECT_TRUE(parse({"-address=10.0.0.5", "-admin-secret-file=/etc/etcd-mesos/admin"}));
  EXPECT_TRUE(parse({"-address=10.0.0.5", "-admin-insecure"}));
  EXPECT_TRUE(parse({"-address=0.0.0.0", "--admin-insecure=true"}));
  EXPECT_FALSE(parse({"-address=0.0.0.0", "--admin-insecure=false"}));
  EXPECT_TRUE(parse({"-address=::1"}));
  auto split = parse({"-address=127.0.0.1", "-artifact-address=10.0.0.5"});
  ASSERT_TRUE(split) << split.error().message;
  EXPECT_EQ(split->artifact_address, "10.0.0.5");
  EXPECT_FALSE(parse({"-address=sched.example"}));
  EXPECT_FALSE(parse({"-artifact-address=not an ip"}));

  EXPECT_FALSE(parse({"-zk-auth-file=/etc/etcd-mesos/zk"}));  // nothing to authenticate to
  auto zk_auth = parse({"-zk-framework-persist=zk://127.0.0.1:2181/etcd-mesos",
                        "-zk-auth-file=/etc/etcd-mesos/zk", "-zk-acl-world-read=false"});
  ASSERT_TRUE(zk_auth) << zk_auth.error().message;
  EXPECT_EQ(zk_auth->zk_auth_file, "/etc/etcd-mesos/zk");
  EXPECT_FALSE(zk_auth->zk_acl_world_read);

  auto window = parse({"--bootstrap-window=-1"});
  ASSERT_FALSE(window);
  EXPECT_NE(window.error().message.find("bootstrap-window"), std::string::npos);

  auto half_auth = parse({"--mesos-authentication-principal=p"});
  ASSERT_FALSE(half_auth);
  EXPECT_NE(half_auth.error().message.find("go together"), std::string::npos);
}

// Issue 13: members compact their history and have a backend quota.
TEST(Options, CompactionAndQuotaDefaultsAndChecks) {
  auto defaults = parse({});
  ASSERT_TRUE(defaults) << defaults.error().message;
  EXPECT_EQ(defaults->etcd_auto_compaction_mode, "periodic");
  EXPECT_EQ(defaults->etcd_auto_compaction_retention, "1h");
  // A quarter of the 1024 MB sandbox disk.
  EXPECT_EQ(quota_backend_bytes(*defaults), 256ull * 1024 * 1024);

  auto big_disk = parse({"-sandbox-disk-limit=1000000"});
  ASSERT_TRUE(big_disk);
  EXPECT_EQ(quota_backend_bytes(*big_disk), kMaxQuotaBackendBytes);
  auto no_disk = parse({"-sandbox-disk-limit=0"});
  ASSERT_TRUE(no_disk);
  EXPECT_EQ(quota_backend_bytes(*no_disk), 0u) << "etcd's default";
  auto given = parse({"--etcd-quota-backend-bytes", "104857600", "-sandbox-disk-limit=0"});
  ASSERT_TRUE(given) << given.error().message;
  EXPECT_EQ(quota_backend_bytes(*given), 104857600u);

  auto revision =
      parse({"-etcd-auto-compaction-mode=revision", "-etcd-auto-compaction-retention=5000"});
  ASSERT_TRUE(revision) << revision.error().message;
  EXPECT_EQ(revision->etcd_auto_compaction_mode, "revision");

  for (std::vector<const char*> bad : {
           std::vector<const char*>{"-etcd-auto-compaction-mode=daily"},
           std::vector<const char*>{"-etcd-auto-compaction-mode=revision"},  // retention "1h"
           std::vector<const char*>{"-etcd-auto-compaction-retention=0"},
           std::vector<const char*>{"-etcd-auto-compaction-retention=soon"},
           std::vector<const char*>{"-etcd-quota-backend-bytes=9999999999999"},
           std::vector<const char*>{"-etcd-quota-backend-bytes=lots"},
       }) {
    auto refused = parse(bad);
    ASSERT_FALSE(refused) << bad[0];
    EXPECT_NE(refused.error().message.find("etcd-"), std::string::npos) << refused.error().message;
  }
}

// Issue 13: the CA goes as a pair; the validity is bounded.
TEST(Options, TheCAFlagsGoTogetherAndTheValidityIsBounded) {
  auto defaults = parse({});
  ASSERT_TRUE(defaults);
  EXPECT_TRUE(defaults->etcd_ca_cert_file.empty());
  EXPECT_EQ(defaults->etcd_cert_validity_hours, 720);
  auto both = parse({"-etcd-ca-cert-file=/etc/ca.crt", "-etcd-ca-key-file=/etc/ca.key",
                     "-etcd-cert-validity=24"});
  ASSERT_TRUE(both) << both.error().message;
  EXPECT_EQ(both->etcd_ca_key_file, "/etc/ca.key");
  EXPECT_EQ(both->etcd_cert_validity_hours, 24);
  for (std::vector<const char*> bad : {
           std::vector<const char*>{"-etcd-ca-cert-file=/etc/ca.crt"},
           std::vector<const char*>{"-etcd-ca-key-file=/etc/ca.key"},
           std::vector<const char*>{"-etcd-cert-validity=0"},
           std::vector<const char*>{"-etcd-cert-validity=-5"},
           std::vector<const char*>{"-etcd-cert-validity=100000"},
           std::vector<const char*>{"-etcd-cert-validity=nan"},
       }) {
    auto refused = parse(bad);
    ASSERT_FALSE(refused) << bad[0];
    EXPECT_NE(refused.error().message.find("etcd-c"), std::string::npos) << refused.error().message;
  }
}

TEST(Options, ZkFrameworkPersistTakesBothSpellingsAndRefusesBadUrls) {
  auto go = parse({"-zk-framework-persist=zk://h1:2181,h2:2182/etcd-mesos", "-zk-session-timeout=4",
                   "-reconcile-interval=60"});
  ASSERT_TRUE(go) << go.error().message;
  EXPECT_EQ(go->zk_framework_persist, "zk://h1:2181,h2:2182/etcd-mesos");
  EXPECT_EQ(go->zk_session_timeout_seconds, 4);
  EXPECT_EQ(go->reconcile_interval_seconds, 60);
  auto gnu = parse({"--zk-framework-persist", "zk://h1:2181/a/b"});
  ASSERT_TRUE(gnu) << gnu.error().message;
  EXPECT_EQ(gnu->zk_framework_persist, "zk://h1:2181/a/b");
  auto defaults = parse({});
  ASSERT_TRUE(defaults);
  EXPECT_TRUE(defaults->zk_framework_persist.empty());
  EXPECT_EQ(defaults->reconcile_interval_seconds, 300);

  for (const char* bad :
       {"-zk-framework-persist=zk://h1:2181/", "-zk-framework-persist=zk://h1:2181",
        "-zk-framework-persist=http://h1:2181/x", "-zk-framework-persist=zk:///x",
        "-zk-framework-persist=zk://h1:port/x"}) {
    auto refused = parse({bad});
    ASSERT_FALSE(refused) << bad;
    EXPECT_NE(refused.error().message.find("zk-framework-persist"), std::string::npos)
        << refused.error().message;
  }
  EXPECT_FALSE(parse({"-zk-session-timeout=0"}));
  EXPECT_FALSE(parse({"-reconcile-interval=0"}));
}

TEST(Options, HelpIsAnEmptyErrorAndHelpTextNamesEveryFlag) {
  auto help = parse({"-help"});
  ASSERT_FALSE(help);
  EXPECT_TRUE(help.error().message.empty());
  auto text = help_text();
  for (const char* flag : {"--master",
                           "--framework-name",
                           "--cluster-size",
                           "--admin-port",
                           "--address",
                           "--artifact-port",
                           "--executor-bin",
                           "--etcd-bin",
                           "--etcdctl-bin",
                           "--sandbox-cpu-limit",
                           "--sandbox-mem-limit",
                           "--sandbox-disk-limit",
                           "--single-instance-per-slave",
                           "--failover-timeout-seconds",
                           "--framework-weburi",
                           "--mesos-offer-refuse-seconds",
                           "--bootstrap-window",
                           "--mesos-authentication-principal",
                           "--mesos-authentication-secret-file",
                           "--zk-framework-persist",
                           "--zk-session-timeout",
                           "--reconcile-interval"}) {
    EXPECT_NE(text.find(flag), std::string::npos) << flag;
  }
}

TEST(Options, RestoreFromTakesFileHttpAndAbsolutePathsAndRefusesTheRest) {
  for (const char* good : {"file:///nonexistent/on/this/host.db", "/backups/etcd.db",
                           "http://backups.example:8080/etcd.db", "https://h/x?y=1",
                           "file://localhost/backups/etcd.db"}) {
    auto o = parse({"-restore-from", good});
    ASSERT_TRUE(o) << good << ": " << o.error().message;
    EXPECT_EQ(o->restore_from, good);
  }
  for (const char* bad : {"backups/etcd.db", "ftp://h/x.db", "s3://bucket/x", "file://host/x.db",
                          "file:relative", "http:///nohost", "/dir/", "http://h/a b", "::"}) {
    auto o = parse({"-restore-from", bad});
    ASSERT_FALSE(o) << bad;
    EXPECT_NE(o.error().message.find("--restore-from"), std::string::npos) << o.error().message;
  }
  EXPECT_TRUE(parse({})->restore_from.empty());
}

}  // namespace
}  // namespace etcdmesos::scheduler
