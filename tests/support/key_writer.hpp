// A client that writes keys one after another through whichever member
// answers, as an etcd client with every member as an endpoint would, and
// remembers which writes etcd acknowledged. A write that a member refuses (it
// is gone, has no quorum, or was removed) is retried at once on the next
// member; a write no member acknowledged within `give_up` counts as failed
// and the writer moves on to the next key.
#pragma once

#include "support/stack.hpp"

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace etcdmesos::testing {

class KeyWriter {
 public:
  explicit KeyWriter(LocalStack& stack,
                     std::chrono::milliseconds give_up = std::chrono::seconds(30));
  ~KeyWriter();
  KeyWriter(const KeyWriter&) = delete;
  KeyWriter& operator=(const KeyWriter&) = delete;

  void stop();
  std::vector<int> acknowledged();
  // Keys no member acknowledged within `give_up`.
  std::vector<int> failed();

  // The key as etcd's gateway wants it, base64: "dd" and six digits are
  // eight base64 characters, six distinct bytes that all begin with 'u'.
  static std::string key(int n) { return "dd" + std::to_string(100000 + n); }
  // How many of `keys` the member at `client_url` does not hold (-1 when it
  // does not answer).
  static long missing_at(const std::string& client_url, const std::vector<int>& keys);

 private:
  void run();

  LocalStack& stack_;
  std::chrono::milliseconds give_up_;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::vector<int> acked_;
  std::vector<int> failed_;
  std::thread thread_;
};

}  // namespace etcdmesos::testing
