// Electing one leader among several schedulers of the same framework name
// and ZooKeeper path (standby schedulers).
//
// Each candidate creates an ephemeral sequential node <dir>/member_<10 digits>
// whose data is its `info` (the admin address "host:port", so that standbys
// can say who leads; it must differ between candidates). The lowest sequence
// leads. Every other candidate watches only the node just below its own (no
// herd: when the leader goes, only its successor is woken), and checks again
// when that node goes.
//
// Deposition: at once when the session expires or the candidate's node
// disappears. When only the connection is lost, after `disconnect_grace`
// (default 0: at once, as Apache Curator's LeaderLatch does), because from
// then on another candidate may be elected without this one hearing of it.
// A grace keeps a leader acting through short ZooKeeper blips; it must stay
// well below the session timeout (the server may expire the session one
// session timeout after it last heard from the client, and the client may
// notice a silent partition only after two thirds of it): at most a quarter.
// When the connection returns within the session timeout, the same node
// still exists and a deposed candidate is elected again (on_elected is called
// again). After an expiry it joins again with a new node, behind the others.
//
// Threading: everything runs on the io_context of the executor given;
// callbacks are called there. ZooKeeper errors are retried every
// retry_interval; the membership is also re-read every recheck_interval (that
// keeps a standby's view of the leader current and repairs a lost watch).
// Lifetime: `zk` must outlive the election. stop() (also run by the
// destructor) withdraws the candidate's node; no callback is called after it.
#pragma once

#include "common/error.hpp"
#include "io/zk.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace etcdmesos::io {

// The sequence of an election node name "member_<digits>", else nullopt.
std::optional<uint64_t> election_node_sequence(std::string_view name);

class LeaderElection {
 public:
  struct Callbacks {
    std::function<void()> on_elected;
    std::function<void()> on_deposed;
    // Optional: the candidate read the leader's info and it is another
    // candidate's (called on every such read; see leader_info()).
    std::function<void()> on_other_leader;
  };
  struct Options {
    std::chrono::milliseconds retry_interval{1000};
    std::chrono::milliseconds recheck_interval{5000};
    std::chrono::milliseconds disconnect_grace{0};
  };

  LeaderElection(boost::asio::any_io_executor ex, ZkClient& zk, std::string dir, std::string info,
                 Callbacks callbacks, Options options);
  LeaderElection(boost::asio::any_io_executor ex, ZkClient& zk, std::string dir, std::string info,
                 Callbacks callbacks);
  ~LeaderElection();
  LeaderElection(const LeaderElection&) = delete;
  LeaderElection& operator=(const LeaderElection&) = delete;

  // Joins the election (once connected). Call once.
  void start();
  // Leaves it: deletes this candidate's node so that the next one is elected
  // at once, and calls no callback any more. Idempotent.
  void stop();

  bool leading() const;
  // The leader's info as last read ("host:port"); this candidate's own while
  // it leads; nullopt while unknown (no candidate, or ZooKeeper unreachable).
  std::optional<std::string> leader_info() const;
  // Reads the leader's info from ZooKeeper now.
  boost::asio::awaitable<Result<std::optional<std::string>>> read_leader_info();

  // This candidate's node (empty while it has none) and the node it watches
  // (its predecessor; its own while it leads). For tests and logs.
  std::string node() const;
  std::string watched_node_ForTest() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace etcdmesos::io
