// Safety properties the simulator checks after every core step. Each one is
// an object with hooks: it sees every event before the core does (with the
// core still in its state before the step), every effect the core emits,
// and the world after the step. A hook returns a description of the
// violation, or nothing.
//
// Adding a property: write a class in invariants.cpp and list it in
// default_invariants().
#pragma once

#include "core/types.hpp"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace etcdmesos::sim {

class World;

class Invariant {
 public:
  virtual ~Invariant() = default;
  virtual const char* name() const = 0;
  virtual void before_event(const core::Event&, const World&) {}
  virtual std::optional<std::string> on_effect(const core::Effect&, const World&) {
    return std::nullopt;
  }
  virtual std::optional<std::string> after_step(const World&) { return std::nullopt; }
  // Persist mode: a new scheduler process (a new core, its ids starting
  // afresh) replaces one that died; called before it hears anything.
  virtual void on_scheduler_restart(const World&) {}
  // Mesos removed the framework (failover timeout): every member was killed.
  virtual void on_framework_removed(const World&) {}
};

// With `pending`, also the invariants that the core does not keep yet (each
// one names the seeds that break it; docs/testing.md): `sim --pending`.
// With `persist` (sim --persist), also the persistence invariants.
std::vector<std::unique_ptr<Invariant>> default_invariants(bool pending = false,
                                                           bool persist = false);

}  // namespace etcdmesos::sim
