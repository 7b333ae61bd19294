#include "scheduler/artifact_server.hpp"

#include "../io/io_test_util.hpp"
#include "support/processes.hpp"

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>

#include <fstream>

namespace etcdmesos::scheduler {
namespace {

namespace http = io::http;

io::Request request(const std::string& target, http::verb verb = http::verb::get) {
  return io::make_request(verb, target, io::Endpoint{"127.0.0.1", 8080});
}

class ArtifactServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.add_content("etcd", "etcd binary v1"));
    ASSERT_TRUE(server_.add_content("etcdctl", "etcdctl binary"));
  }

  boost::asio::io_context io_;
  ArtifactServer server_{io_.get_executor()};
};

TEST(ArtifactDigest, IsTheSha256PrefixInHex) {
  // SHA-256("abc") = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
  EXPECT_EQ(artifact_digest("abc"), "ba7816bf8f01cfea");
  EXPECT_EQ(artifact_digest("abc").size(), kArtifactDigestChars);
}

TEST_F(ArtifactServerTest, PathsCarryTheContentDigestAndKeepTheNameLast) {
  EXPECT_EQ(server_.path("etcd"), "/artifacts/" + artifact_digest("etcd binary v1") + "/etcd");
  EXPECT_EQ(server_.path("nope"), "");
}

TEST_F(ArtifactServerTest, TheDigestPathServesTheBytesAndCountsADownload) {
  auto answer = server_.route(request(server_.path("etcd")));
  const auto& res = answer.response;
  EXPECT_EQ(res.result(), http::status::ok);
  ASSERT_TRUE(answer.body);
  EXPECT_EQ(ArtifactServer::read_all(*answer.body).value(), "etcd binary v1");
  EXPECT_EQ(res[http::field::content_type], "application/octet-stream");
  EXPECT_EQ(res[http::field::etag], "\"" + artifact_digest("etcd binary v1") + "\"");
  EXPECT_EQ(server_.downloads(), 1u);
  server_.route(request(server_.path("etcdctl")));
  EXPECT_EQ(server_.downloads(), 2u);
}

TEST_F(ArtifactServerTest, NewContentGetsANewPathAndTheOldDigestIsGone) {
  const auto old_path = server_.path("etcd");
  ASSERT_TRUE(server_.add_content("etcd", "etcd binary v2"));
  const auto new_path = server_.path("etcd");
  EXPECT_NE(new_path, old_path);
  // A cache keyed by the old URI can never be handed the new bytes, and the
  // old URI does not silently serve the new ones either.
  auto old_res = server_.route(request(old_path)).response;
  EXPECT_EQ(old_res.result(), http::status::not_found);
  EXPECT_NE(old_res.body().find("has digest " + artifact_digest("etcd binary v2")),
            std::string::npos)
      << old_res.body();
  auto new_answer = server_.route(request(new_path));
  EXPECT_EQ(new_answer.response.result(), http::status::ok);
  ASSERT_TRUE(new_answer.body);
  EXPECT_EQ(ArtifactServer::read_all(*new_answer.body).value(), "etcd binary v2");
  EXPECT_EQ(server_.downloads(), 1u);
}

TEST_F(ArtifactServerTest, ThePathWithoutADigestRedirectsToTheCurrentOne) {
  for (const std::string target : {"/etcd", "/etcd?x=1"}) {
    auto res = server_.route(request(target)).response;
    EXPECT_EQ(res.result(), http::status::temporary_redirect) << target;
    EXPECT_EQ(res[http::field::location], server_.path("etcd"));
    EXPECT_EQ(res[http::field::cache_control], "no-cache");
  }
  EXPECT_EQ(server_.downloads(), 0u);
}

TEST_F(ArtifactServerTest, UnknownPathsAreNotFound) {
  const auto digest = artifact_digest("etcd binary v1");
  for (const std::string& target : std::vector<std::string>{
           "/", "/nope", "/artifacts/", "/artifacts/" + digest, "/artifacts/" + digest + "/",
           "/artifacts/" + digest + "/nope", "/artifacts/" + digest + "/etcd/x", "/artifacts//etcd",
           "/other/" + digest + "/etcd"}) {
    EXPECT_EQ(server_.route(request(target)).response.result(), http::status::not_found) << target;
  }
  EXPECT_EQ(server_.downloads(), 0u);
}

TEST_F(ArtifactServerTest, HeadGivesTheLengthWithoutTheBodyAndIsNoDownload) {
  auto answer = server_.route(request(server_.path("etcd"), http::verb::head));
  const auto& res = answer.response;
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_TRUE(res.body().empty());
  EXPECT_FALSE(answer.body);
  EXPECT_EQ(res[http::field::content_length], std::to_string(std::string("etcd binary v1").size()));
  EXPECT_EQ(server_.downloads(), 0u);
}

TEST_F(ArtifactServerTest, OtherMethodsAreNotAllowed) {
  auto res = server_.route(request(server_.path("etcd"), http::verb::post)).response;
  EXPECT_EQ(res.result(), http::status::method_not_allowed);
  EXPECT_EQ(res[http::field::allow], "GET, HEAD");
}

TEST_F(ArtifactServerTest, AFileIsCopiedAtOnceAndServedOverHttpInPieces) {
  etcdmesos::testing::TempDir dir("artifact-server-test");
  const auto path = dir.path() / "big";
  std::string content;
  for (int i = 0; content.size() < 1'000'000; ++i) {
    content += std::to_string(i) + ",";
  }
  {
    std::ofstream out(path, std::ios::binary);
    out << content;
  }
  ASSERT_TRUE(server_.add_file("big", path.string()));
  // Changing the file afterwards changes nothing that is served.
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << "changed";
  }
  auto bound = server_.listen({"127.0.0.1", 0});
  ASSERT_TRUE(bound);
  auto got = etcdmesos::testing::run_coro(
      io_, io::http_request(io_.get_executor(), *bound,
                            io::make_request(http::verb::get, server_.path("big"), *bound),
                            std::chrono::seconds(10), 4 * content.size()));
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->result(), http::status::ok);
  EXPECT_EQ(got->body().size(), content.size());
  EXPECT_TRUE(got->body() == content);
  EXPECT_EQ(server_.path("big"), "/artifacts/" + artifact_digest(content) + "/big");
  EXPECT_EQ(server_.downloads(), 1u);
  EXPECT_FALSE(server_.add_file("missing", (dir.path() / "missing").string()));
  server_.stop();
}

// Issue 13: the fetchers only GET; a body is refused before it is read.
TEST_F(ArtifactServerTest, ARequestWithABodyIsRefused) {
  auto bound = server_.listen({"127.0.0.1", 0});
  ASSERT_TRUE(bound);
  auto got = etcdmesos::testing::run_coro(
      io_, io::http_request(io_.get_executor(), *bound,
                            io::make_request(http::verb::get, server_.path("etcd"), *bound, "x"),
                            std::chrono::seconds(5)));
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->result(), http::status::payload_too_large);
  auto plain = etcdmesos::testing::run_coro(
      io_, io::http_request(io_.get_executor(), *bound,
                            io::make_request(http::verb::get, server_.path("etcd"), *bound),
                            std::chrono::seconds(5)));
  ASSERT_TRUE(plain) << plain.error().message;
  EXPECT_EQ(plain->result(), http::status::ok);
  server_.stop();
}

TEST_F(ArtifactServerTest, NamesAreOnePathSegment) {
  EXPECT_FALSE(server_.add_content("a/b", "x"));
  EXPECT_FALSE(server_.add_content("", "x"));
}

}  // namespace
}  // namespace etcdmesos::scheduler
