#include "sim/latency.h"

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/dijkstra_shortest_paths.hpp>
#include <algorithm>
#include <limits>
#include <map>

#include "core/check.h"
#include "core/rng.h"

namespace swarm::sim {
namespace {

using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::undirectedS,
                                    boost::no_property,
                                    boost::property<boost::edge_weight_t, int64_t>>;

// All-pairs region delays: one Dijkstra per region (regions are few).
std::vector<std::vector<int64_t>> RegionDelays(const LatencySpec& l) {
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < l.regions.size(); ++i) index[l.regions[i]] = i;
  Graph g(l.regions.size());
  for (const TopologyLink& k : l.links)
    boost::add_edge(index.at(k.from), index.at(k.to), k.delay.micros(), g);
  std::vector<std::vector<int64_t>> out;
  for (size_t s = 0; s < l.regions.size(); ++s) {
    std::vector<int64_t> dist(l.regions.size());
    boost::dijkstra_shortest_paths(
        g, s,
        boost::distance_map(boost::make_iterator_property_map(
            dist.begin(), boost::get(boost::vertex_index, g))));
    out.push_back(std::move(dist));
  }
  return out;
}

}  // namespace

LatencyModel::LatencyModel(const Scenario& s, std::vector<uint32_t> peer_class)
    : kind_(s.network.latency.kind),
      constant_(s.network.latency.constant),
      low_(s.network.latency.low),
      high_(s.network.latency.high),
      seed_(s.seed),
      peer_class_(std::move(peer_class)),
      classes_(s.peers.size()) {
  const LatencySpec& l = s.network.latency;
  if (kind_ == LatencySpec::Kind::kMatrix) {
    class_delay_.resize(classes_ * classes_);
    for (size_t a = 0; a < classes_; ++a) {
      for (size_t b = 0; b < classes_; ++b) {
        const std::string& na = s.peers[a].name;
        const std::string& nb = s.peers[b].name;
        auto ia = l.matrix.find(na);
        if (ia != l.matrix.end() && ia->second.count(nb)) {
          class_delay_[a * classes_ + b] = ia->second.at(nb);
        } else {
          class_delay_[a * classes_ + b] = l.matrix.at(nb).at(na);
        }
      }
    }
  } else if (kind_ == LatencySpec::Kind::kTopology) {
    auto delays = RegionDelays(l);
    std::map<std::string, size_t> index;
    for (size_t i = 0; i < l.regions.size(); ++i) index[l.regions[i]] = i;
    class_delay_.resize(classes_ * classes_);
    for (size_t a = 0; a < classes_; ++a) {
      for (size_t b = 0; b < classes_; ++b) {
        int64_t d = delays[index.at(s.peers[a].region)][index.at(s.peers[b].region)];
        // Scenario::Validate refuses regions with no path between them.
        SWARM_CHECK(d < std::numeric_limits<int64_t>::max() / 4);
        class_delay_[a * classes_ + b] = core::Duration::Micros(d) + l.access * 2;
      }
    }
  }
}

core::Duration LatencyModel::Between(uint32_t a, uint32_t b) const {
  switch (kind_) {
    case LatencySpec::Kind::kConstant:
      return constant_;
    case LatencySpec::Kind::kUniform: {
      // One stream per unordered pair, so the delay is symmetric and does
      // not depend on which side dialed.
      uint64_t lo = std::min(a, b), hi = std::max(a, b);
      core::Rng rng = core::Rng::ForStream(seed_ ^ 0x6c6174656e6379ULL, (hi << 32) | lo);
      return core::Duration::Micros(rng.UniformInt(low_.micros(), high_.micros()));
    }
    case LatencySpec::Kind::kMatrix:
    case LatencySpec::Kind::kTopology:
      return class_delay_[peer_class_[a] * classes_ + peer_class_[b]];
  }
  SWARM_CHECK(false);
  return constant_;
}

}  // namespace swarm::sim
