// The agents' fetcher cache (issue 12): a URI with `cache: true` is
// downloaded once per agent (and user), copied into every later sandbox,
// evicted least recently used, and forgotten when the agent starts again;
// `cache: false` downloads every time. First FetcherCache on its own, then
// through the dev cluster binary, counting the artifact server's requests.
#include "fetcher_cache.hpp"
#include "fetcher.hpp"
#include "harness.hpp"

#include <gtest/gtest.h>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/json.hpp>

#include <fstream>

namespace etcdmesos::devcluster::testing {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using etcdmesos::testing::TempDir;

mesos::Uri cached_uri(const std::string& url, bool executable = false) {
  mesos::Uri uri;
  uri.value = url;
  uri.executable = executable;
  uri.extract = false;
  uri.cache = true;
  return uri;
}

// A FetcherCache on the test loop, with an artifact server to count on.
struct CacheFixture {
  explicit CacheFixture(uint64_t capacity = 1 << 20)
      : dir("devcluster-fetcher-cache"),
        artifacts(loop, {{"/a", "aaaaaaaaaa"},
                         {"/a?v=2", "aaaaaaaaaa"},  // another URI of the same bytes
                         {"/a?c", "cccccccccc"},
                         {"/b", "bbbbbbbbbb"},
                         {"/big", std::string(64, 'x')}}),
        cache(loop.executor(), dir.path() / "cache", capacity) {
    if (!reset()) {
      throw std::runtime_error("reset failed");
    }
  }
  bool reset() {
    return loop.run([](FetcherCache* c) -> boost::asio::awaitable<bool> {
      co_return c->reset().has_value();
    }(&cache));
  }
  Result<CachedFetch> fetch(const mesos::Uri& uri, const std::string& sandbox,
                            const std::string& user = "") {
    return loop.run(cache.fetch(uri, user, dir.path() / sandbox, 1 << 20, 10s));
  }
  FetcherCacheStats stats() {
    return loop.run([](FetcherCache* c) -> boost::asio::awaitable<FetcherCacheStats> {
      co_return c->stats();
    }(&cache));
  }

  Loop loop;
  TempDir dir;
  ArtifactServer artifacts;
  FetcherCache cache;
};

TEST(DevclusterFetcherCache, ASecondFetchOfTheSameUriCopiesFromTheCache) {
  CacheFixture f;
  auto first = f.fetch(cached_uri(f.artifacts.url("/a"), true), "s1");
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_FALSE(first->from_cache);
  auto second = f.fetch(cached_uri(f.artifacts.url("/a"), true), "s2");
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_TRUE(second->from_cache);

  EXPECT_EQ(f.artifacts.requests("/a"), 1u);
  EXPECT_EQ(second->path, f.dir.path() / "s2" / "a");
  EXPECT_EQ(read_text(second->path), "aaaaaaaaaa");
  EXPECT_EQ(fs::status(second->path).permissions() & fs::perms::all, fs::perms(0755));
  const auto s = f.stats();
  EXPECT_EQ(s.entries, 1u);
  EXPECT_EQ(s.bytes, 10u);
  EXPECT_EQ(s.downloads, 1u);
  EXPECT_EQ(s.hits, 1u);
}

TEST(DevclusterFetcherCache, EntriesAreKeyedByUserAndUri) {
  CacheFixture f;
  ASSERT_TRUE(f.fetch(cached_uri(f.artifacts.url("/a")), "s1", "alice"));
  ASSERT_TRUE(f.fetch(cached_uri(f.artifacts.url("/a")), "s2", "bob"));
  ASSERT_TRUE(f.fetch(cached_uri(f.artifacts.url("/a") + "?v=2"), "s3", "alice"));
  auto again = f.fetch(cached_uri(f.artifacts.url("/a")), "s4", "alice");
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->from_cache);
  EXPECT_EQ(f.artifacts.requests("/a"), 2u);
  EXPECT_EQ(f.artifacts.requests("/a?v=2"), 1u);
  // Each user's entries live in a directory of that user.
  EXPECT_TRUE(fs::is_directory(f.cache.dir() / "alice"));
  EXPECT_TRUE(fs::is_directory(f.cache.dir() / "bob"));
}

TEST(DevclusterFetcherCache, AResetEmptiesTheCacheAndTheDirectory) {
  CacheFixture f;
  ASSERT_TRUE(f.fetch(cached_uri(f.artifacts.url("/a")), "s1"));
  ASSERT_TRUE(f.reset());
  EXPECT_TRUE(fs::is_empty(f.cache.dir()));
  auto after = f.fetch(cached_uri(f.artifacts.url("/a")), "s2");
  ASSERT_TRUE(after);
  EXPECT_FALSE(after->from_cache);
  EXPECT_EQ(f.artifacts.requests("/a"), 2u);
}

TEST(DevclusterFetcherCache, TheLeastRecentlyUsedEntryIsEvictedWhenFull) {
  CacheFixture f(25);  // room for two 10-byte files
  ASSERT_TRUE(f.fetch(cached_uri(f.artifacts.url("/a")), "s1"));
  ASSERT_TRUE(f.fetch(cached_uri(f.artifacts.url("/b")), "s2"));
  ASSERT_TRUE(f.fetch(cached_uri(f.artifacts.url("/a")), "s3"));         // a is now the newer
  ASSERT_TRUE(f.fetch(cached_uri(f.artifacts.url("/a") + "?c"), "s4"));  // evicts b
  EXPECT_EQ(f.stats().evictions, 1u);
  EXPECT_TRUE(f.fetch(cached_uri(f.artifacts.url("/a")), "s5")->from_cache);
  EXPECT_FALSE(f.fetch(cached_uri(f.artifacts.url("/b")), "s6")->from_cache);
  EXPECT_EQ(f.artifacts.requests("/a"), 1u);
  EXPECT_EQ(f.artifacts.requests("/b"), 2u);
  EXPECT_LE(f.stats().bytes, 25u);
}

TEST(DevclusterFetcherCache, AFileLargerThanTheCacheIsFetchedButNotKept) {
  CacheFixture f(32);
  auto first = f.fetch(cached_uri(f.artifacts.url("/big")), "s1");
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(read_text(first->path), std::string(64, 'x'));
  ASSERT_TRUE(f.fetch(cached_uri(f.artifacts.url("/big")), "s2"));
  EXPECT_EQ(f.artifacts.requests("/big"), 2u);
  EXPECT_EQ(f.stats().entries, 0u);
}

TEST(DevclusterFetcherCache, AFailedDownloadLeavesNoEntry) {
  CacheFixture f;
  auto missing = f.fetch(cached_uri(f.artifacts.url("/missing")), "s1");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("HTTP 404"), std::string::npos);
  EXPECT_FALSE(f.fetch(cached_uri(f.artifacts.url("/missing")), "s2"));
  EXPECT_EQ(f.artifacts.requests("/missing"), 2u);
  EXPECT_EQ(f.stats().entries, 0u);
}

TEST(DevclusterFetcherCache, ConcurrentRequestsShareOneDownload) {
  CacheFixture f;
  auto both = f.loop.run([](CacheFixture* fx) -> boost::asio::awaitable<int> {
    using namespace boost::asio::experimental::awaitable_operators;
    auto uri = cached_uri(fx->artifacts.url("/a"));
    auto [one, two] = co_await (fx->cache.fetch(uri, "", fx->dir.path() / "s1", 1 << 20, 10s) &&
                                fx->cache.fetch(uri, "", fx->dir.path() / "s2", 1 << 20, 10s));
    co_return (one ? 1 : 0) + (two ? 1 : 0);
  }(&f));
  EXPECT_EQ(both, 2);
  EXPECT_EQ(f.artifacts.requests("/a"), 1u);
  EXPECT_EQ(read_text(f.dir.path() / "s2" / "a"), "aaaaaaaaaa");
}

// ----------------------------------------------------------- through agents

struct AgentFetch {
  explicit AgentFetch(int subnet)
      : cluster(options(subnet, 1)),
        artifacts(loop, {{"/devcluster-test-executor", test_executor_binary()}}),
        scheduler(loop, cluster.master()) {
    if (scheduler.subscribe(framework_info()) != 200) {
      throw std::runtime_error("subscribe failed\n" + cluster.logs());
    }
  }
  // Launches a task on the only agent and waits until it runs, then kills
  // it and waits until it is gone, so the next launch needs a new executor.
  void run_once(const std::string& id, bool cache) {
    auto event = scheduler.wait_for_type("OFFERS", 30s);
    ASSERT_TRUE(event) << cluster.logs();
    const auto& offers = std::get<mesos::EventOffers>(*event).offers;
    ASSERT_FALSE(offers.empty()) << cluster.logs();
    auto task =
        executor_task(offers.front(), id, "exec-" + id, artifacts.url("/devcluster-test-executor"));
    task.executor->command->uris[0].cache = cache;
    ASSERT_EQ(scheduler.call(accept_call(offers.front(), {task})).result_int(), 202);
    auto running = scheduler.wait_for_update(id, mesos::TaskState::kRunning, 60s);
    ASSERT_TRUE(running) << cluster.logs();
    scheduler.acknowledge(*running);
    ASSERT_EQ(scheduler.call(call_of(mesos::CallKill{id, offers.front().agent_id, std::nullopt}))
                  .result_int(),
              202);
    auto killed = scheduler.wait_for_update(id, mesos::TaskState::kKilled, 60s);
    ASSERT_TRUE(killed) << cluster.logs();
    scheduler.acknowledge(*killed);
  }
  json::object cache_state() {
    auto agents = get_json(loop, cluster.master(), "/control/agents").as_array();
    return agents.at(0).at("fetcher_cache").as_object();
  }
  std::size_t downloads() { return artifacts.requests("/devcluster-test-executor"); }

  Loop loop;
  DevCluster cluster;
  ArtifactServer artifacts;
  Scheduler scheduler;
};

TEST(DevclusterFetcherCache, ASecondExecutorOnTheSameAgentIsNotDownloadedAgain) {
  AgentFetch t(61);
  ASSERT_NO_FATAL_FAILURE(t.run_once("t1", true));
  ASSERT_NO_FATAL_FAILURE(t.run_once("t2", true));
  EXPECT_EQ(t.downloads(), 1u);
  auto cache = t.cache_state();
  EXPECT_EQ(cache.at("downloads").to_number<int64_t>(), 1);
  EXPECT_EQ(cache.at("hits").to_number<int64_t>(), 1);
  EXPECT_EQ(cache.at("entries").to_number<int64_t>(), 1);
  // The cache lives in the agent's own directory under the work dir, by user.
  const fs::path dir(std::string(cache.at("dir").as_string()));
  EXPECT_EQ(dir.parent_path(), t.cluster.work_dir() / "fetch");
  EXPECT_FALSE(fs::is_empty(dir / framework_info().user));
}

TEST(DevclusterFetcherCache, WithoutCacheEveryLaunchDownloads) {
  AgentFetch t(62);
  ASSERT_NO_FATAL_FAILURE(t.run_once("t1", false));
  ASSERT_NO_FATAL_FAILURE(t.run_once("t2", false));
  EXPECT_EQ(t.downloads(), 2u);
  EXPECT_EQ(t.cache_state().at("entries").to_number<int64_t>(), 0);
}

TEST(DevclusterFetcherCache, AnAgentThatStartsAgainHasAnEmptyCache) {
  AgentFetch t(63);
  ASSERT_NO_FATAL_FAILURE(t.run_once("t1", true));
  // The offer outstanding now goes with the host; the next comes after start.
  ASSERT_TRUE(t.scheduler.wait_for_type("OFFERS", 30s)) << t.cluster.logs();
  auto agents = get_json(t.loop, t.cluster.master(), "/control/agents").as_array();
  const std::string id(agents.at(0).at("id").as_string());
  for (const char* verb : {"/stop", "/start"}) {
    ASSERT_EQ(http(t.loop, t.cluster.master(), io::http::verb::post, "/control/agents/" + id + verb,
                   "", "")
                  .result_int(),
              200)
        << verb;
  }
  EXPECT_EQ(t.cache_state().at("entries").to_number<int64_t>(), 0);
  ASSERT_NO_FATAL_FAILURE(t.run_once("t2", true));
  EXPECT_EQ(t.downloads(), 2u);
}

// Local files as the Mesos fetcher takes them (a restore's snapshot, issue
// 14): file:///p, file://localhost/p and a plain absolute path, stored
// under output_file when given; a missing file is an error.
TEST(DevclusterFetcher, FetchesLocalFilesAsMesosDoes) {
  Loop loop;
  TempDir dir("devcluster-fetch-local");
  const fs::path source = dir.path() / "backup.snapshot";
  std::ofstream(source) << "snapshot bytes";
  const fs::path sandbox = dir.path() / "sandbox";
  fs::create_directories(sandbox);
  auto fetch = [&](const std::string& value, std::optional<std::string> output_file) {
    mesos::Uri uri;
    uri.value = value;
    uri.extract = false;
    uri.cache = false;
    uri.output_file = std::move(output_file);
    return loop.run(fetch_uri(loop.executor(), uri, sandbox, 1 << 20, 10s));
  };
  const std::string path = source.string();
  for (const std::string& value : {"file://" + path, "file://localhost" + path, path}) {
    auto fetched = fetch(value, std::string("etcd-restore.snapshot"));
    ASSERT_TRUE(fetched) << value << ": " << fetched.error().message;
    EXPECT_EQ(*fetched, sandbox / "etcd-restore.snapshot");
    EXPECT_EQ(read_text(*fetched), "snapshot bytes");
    fs::remove(*fetched);
  }
  auto named = fetch("file://" + path, std::nullopt);
  ASSERT_TRUE(named) << named.error().message;
  EXPECT_EQ(*named, sandbox / "backup.snapshot");
  auto missing = fetch("file://" + (dir.path() / "nothing.snapshot").string(), std::nullopt);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("Failed to copy"), std::string::npos);
}

}  // namespace
}  // namespace etcdmesos::devcluster::testing
