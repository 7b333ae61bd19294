// Micro-benchmarks (Google Benchmark) of the scheduler's hot paths without
// I/O (issue 12, docs/performance.md):
//   RecordIoDecode          the subscription stream's framing, fed in 4 KB pieces
//   DecodeOffersEvent/N     one OFFERS event of N offers, JSON -> structs
//   CoreStepOffers/N        the core's step for N offers of a complete cluster
//   OffersEventHandled/N    all of the above plus the DECLINE calls' JSON: what
//                           the scheduler does between reading an OFFERS event
//                           and sending its answer ("as few calls as possible"
//                           is the decline_calls counter)
//   CoreTick                one clock tick of a healthy 3-member cluster
// scripts/bench runs them with --benchmark_format=json; ctest runs each once
// (--benchmark_min_time=0) only to prove they still build and run.
#include "codec/mesos.hpp"
#include "codec/recordio.hpp"
#include "core_harness.hpp"
#include "scheduler/convert.hpp"

#include <benchmark/benchmark.h>

#include <string>
#include <vector>

namespace {

using namespace etcdmesos;
using core::testing::Harness;

mesos::Offer mesos_offer(std::size_t i) {
  mesos::Offer o;
  o.id = "726721b8-6553-4280-b7cb-030ab89405ac-O" + std::to_string(i);
  o.framework_id = "726721b8-6553-4280-b7cb-030ab89405ac-0000";
  o.agent_id = "726721b8-6553-4280-b7cb-030ab89405ac-S" + std::to_string(i);
  o.hostname = "10." + std::to_string(i / 65536 % 256) + "." + std::to_string(i / 256 % 256) + "." +
               std::to_string(i % 256);
  o.url_address = mesos::Address{o.hostname, o.hostname, 5051};
  o.resources = {mesos::scalar_resource("cpus", 2), mesos::scalar_resource("mem", 2048),
                 mesos::scalar_resource("disk", 1024),
                 mesos::ranges_resource("ports", {{31000, 31100}})};
  for (auto& r : o.resources) {
    r.role = "*";
  }
  o.allocation_role = "etcd";
  return o;
}

std::string offers_event_json(std::size_t n) {
  mesos::EventOffers event;
  for (std::size_t i = 0; i < n; ++i) {
    event.offers.push_back(mesos_offer(i));
  }
  return mesos::encode(mesos::Event{std::move(event)});
}

// A core with a complete, healthy cluster of `size` members.
Harness complete_cluster(std::size_t size) {
  auto config = core::testing::test_config();
  config.cluster_size = size;
  Harness h(config);
  h.bring_up(size);
  return h;
}

void RecordIoDecode(benchmark::State& state) {
  std::string stream;
  const std::string heartbeat = R"({"type":"HEARTBEAT"})";
  const std::string update = mesos::encode(mesos::Event{mesos::EventOffers{{mesos_offer(1)}}});
  for (int i = 0; i < 1000; ++i) {
    stream += recordio::encode(i % 2 ? heartbeat : update);
  }
  for (auto _ : state) {
    recordio::Decoder decoder(1 << 20);
    std::size_t records = 0;
    for (std::size_t at = 0; at < stream.size(); at += 4096) {
      auto out = decoder.feed(std::string_view(stream).substr(at, 4096));
      records += out ? out->size() : 0;
    }
    if (records != 1000) {
      state.SkipWithError("the decoder did not return every record");
      break;
    }
    benchmark::DoNotOptimize(records);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * stream.size()));
}
BENCHMARK(RecordIoDecode);

void DecodeOffersEvent(benchmark::State& state) {
  const auto json = offers_event_json(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    auto event = mesos::decode_event(json);
    if (!event || std::get<mesos::EventOffers>(*event).offers.size() !=
                      static_cast<std::size_t>(state.range(0))) {
      state.SkipWithError("decode failed");
      break;
    }
    benchmark::DoNotOptimize(event);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(DecodeOffersEvent)->Arg(100)->Arg(1000)->Arg(10000)->Unit(benchmark::kMicrosecond);

void CoreStepOffers(benchmark::State& state) {
  auto h = complete_cluster(3);
  core::OffersReceived offers;
  for (int i = 0; i < state.range(0); ++i) {
    offers.offers.push_back(core::testing::offer("x" + std::to_string(i), 100 + i));
  }
  for (auto _ : state) {
    auto fx = h.core.step(offers, h.now);
    benchmark::DoNotOptimize(fx);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(CoreStepOffers)->Arg(100)->Arg(1000)->Arg(10000)->Unit(benchmark::kMicrosecond);

void OffersEventHandled(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto json = offers_event_json(n);
  auto h = complete_cluster(3);
  std::size_t calls = 0;
  std::size_t declined = 0;
  for (auto _ : state) {
    auto event = mesos::decode_event(json);
    if (!event) {
      state.SkipWithError("decode failed");
      break;
    }
    const auto& received = std::get<mesos::EventOffers>(*event).offers;
    core::OffersReceived offers;
    offers.offers.reserve(received.size());
    for (const auto& o : received) {
      offers.offers.push_back(scheduler::to_offer_view(o, "etcd"));
    }
    auto fx = h.core.step(offers, h.now);
    calls = 0;
    declined = 0;
    for (auto& decline : scheduler::batch_declines(fx)) {
      declined += decline.offer_ids.size();
      mesos::Call call{"726721b8-6553-4280-b7cb-030ab89405ac-0000", std::move(decline)};
      benchmark::DoNotOptimize(mesos::encode(call));
      ++calls;
    }
  }
  if (declined != n) {
    state.SkipWithError("not every offer was declined");
  }
  state.counters["decline_calls"] = static_cast<double>(calls);
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(OffersEventHandled)->Arg(100)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

void CoreTick(benchmark::State& state) {
  auto h = complete_cluster(3);
  for (auto _ : state) {
    // Within one check interval: nothing is due, which is the common case.
    auto fx = h.core.tick(h.now);
    benchmark::DoNotOptimize(fx);
  }
}
BENCHMARK(CoreTick);

}  // namespace

BENCHMARK_MAIN();
