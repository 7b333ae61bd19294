#include "support/key_writer.hpp"

#include "support/member_checks.hpp"

#include <boost/json.hpp>

namespace etcdmesos::testing {

using namespace std::chrono_literals;

KeyWriter::KeyWriter(LocalStack& stack, std::chrono::milliseconds give_up)
    : stack_(stack), give_up_(give_up), thread_([this] { run(); }) {}

KeyWriter::~KeyWriter() {
  stop();
}

void KeyWriter::stop() {
  stop_ = true;
  if (thread_.joinable()) {
    thread_.join();
  }
}

std::vector<int> KeyWriter::acknowledged() {
  std::lock_guard lock(mutex_);
  return acked_;
}

std::vector<int> KeyWriter::failed() {
  std::lock_guard lock(mutex_);
  return failed_;
}

void KeyWriter::run() {
  std::vector<std::string> urls;
  std::size_t next = 0;
  int n = 0;
  auto first_try = std::chrono::steady_clock::now();
  while (!stop_) {
    if (urls.empty() || next >= urls.size()) {
      urls.clear();
      for (const auto& m : stack_.members()) {
        urls.push_back(str(m, "client_url"));
      }
      next = 0;
      if (urls.empty()) {
        std::this_thread::sleep_for(100ms);
        continue;
      }
    }
    const std::string body = R"({"key":")" + key(n) + R"(","value":"dmFsdWU="})";
    auto put = etcd_post(urls[next], "/v3/kv/put", body, 3s);
    if (put && put->status == 200) {
      std::lock_guard lock(mutex_);
      acked_.push_back(n++);
      first_try = std::chrono::steady_clock::now();
      continue;
    }
    ++next;  // that member is gone, removed or has no quorum: try another
    if (std::chrono::steady_clock::now() - first_try > give_up_) {
      std::lock_guard lock(mutex_);
      failed_.push_back(n++);
      first_try = std::chrono::steady_clock::now();
    }
  }
}

long KeyWriter::missing_at(const std::string& client_url, const std::vector<int>& keys) {
  long missing = 0;
  for (int n : keys) {
    auto get = etcd_post(client_url, "/v3/kv/range", R"({"key":")" + key(n) + R"("})");
    if (!get || get->status != 200) {
      return -1;
    }
    if (boost::json::parse(get->body).as_object().if_contains("kvs") == nullptr) {
      ++missing;
    }
  }
  return missing;
}

}  // namespace etcdmesos::testing
