// What a reseed asks of a member's executor, shared by the codec, which
// writes and reads it in reseed orders and answers (codec/reseed.hpp), and
// the cores, which decide on it. Header-only, like task_state.hpp.
#pragma once

namespace etcdmesos {

enum class ReseedAction {
  // Stop etcd and keep it stopped (the task runs on) for a lease, reporting
  // the commit index its data holds; etcd restarts as the member it was when
  // the lease ends unless the member was seeded or killed. A repeated fence
  // renews the lease. No majority of fenced members can commit behind the
  // scheduler's back while it chooses and starts the seed.
  kFence,
  kSeed,  // copy the data directory aside, start etcd once with
          // --force-new-cluster: a one-member cluster holding this member's data
};

inline const char* to_string(ReseedAction action) {
  switch (action) {
    case ReseedAction::kFence:
      return "fence";
    case ReseedAction::kSeed:
      return "seed";
  }
  return "?";
}

}  // namespace etcdmesos
