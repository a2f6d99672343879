// Simulation: the discrete-event engine that runs unchanged core::Peer and
// core::Tracker objects over the flow-level network model.
//
// One thread, one timeline: events are ordered by (time, sequence number),
// where the sequence number is the order in which they were scheduled, so
// same-time events never race. Peers live in a vector indexed by PeerId and
// each owns Rng stream `id` of the run seed. Nothing iterates a hash map or
// compares pointers, so the same scenario and seed give byte-identical
// results.
//
// How actions are carried out (docs/architecture.md, "The simulator",
// driver contract):
//  - control messages arrive after the pair's one-way latency;
//  - a SendBlock becomes a flow in FlowNetwork; when it finishes the sender
//    gets OnBlockSent and the Piece arrives one latency later;
//  - Connect takes one latency to reach the acceptor (OnConnected inbound)
//    and one more to come back (OnConnected outbound); a connect to a peer
//    that is not there fails after the round trip;
//  - Disconnect closes both ends at once for data (flows on the connection
//    are aborted) and the remote core hears OnDisconnected one latency later;
//  - announces reach the tracker after tracker.latency and come back after
//    the same again;
//  - VerifyPiece is answered at once (a zero-delay event): it fails when a
//    block of the piece was last stored from a polluter class
//    (corrupt_uploads), else it succeeds. Blocks carry no bytes, so a
//    "tainted" bit per block and peer stands for corrupt data (DoStore,
//    Verify in engine.cc).
//
// Thread-compatible: one Simulation per thread.
#ifndef SWARM_SIM_ENGINE_H_
#define SWARM_SIM_ENGINE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>

#include "sim/results.h"
#include "sim/scenario.h"

namespace swarm::sim {

struct Progress {
  core::Time now;
  uint32_t done = 0;      // leechers completed or gone
  uint32_t leechers = 0;  // leechers in the whole run
  uint64_t events = 0;
  // Rough fraction of the run done, for an ETA: the larger of `payload`
  // and simulated time / max_time.
  double fraction = 0;
  // Payload delivered / (leechers x file size).
  double payload = 0;
};

struct SimOptions {
  // One readable line per protocol event (small swarms only).
  std::ostream* trace = nullptr;
  // Check rate caps after every reallocation (each link against the
  // network model's capacity, and each host against its class's capacities
  // in the scenario), bytes over each peer's stay and the timeline's
  // utilisation against the scenario's capacities, and that no connection is
  // left idle with blocks to ask for after a peer's input (slow; for tests
  // and validation_run). The counts go to RunStats.
  bool check_invariants = false;
  // Fault injection for tests of those checks: every link of the network
  // model gets this multiple of its class's capacities. 1 in every real run;
  // a run with any other value is wrong on purpose.
  double link_capacity_factor = 1;
  // Called every few thousand events.
  std::function<void(const Progress&)> progress;
  // If set, the simulated time reached (microseconds) is stored here after
  // every event, so that a signal handler can say how far an interrupted
  // run got (`sim run`); `progress` comes too seldom for that. Relaxed
  // stores: the value alone is read.
  std::atomic<int64_t>* sim_time_us = nullptr;
};

class Simulation {
 public:
  // REQUIRES: scenario.Validate() passed.
  Simulation(const Scenario& scenario, SimOptions options = {});
  ~Simulation();
  Simulation(const Simulation&) = delete;
  Simulation& operator=(const Simulation&) = delete;

  // Runs to the stop condition. Call once.
  RunResult Run();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace swarm::sim

#endif  // SWARM_SIM_ENGINE_H_
