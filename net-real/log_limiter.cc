#include "net-real/log_limiter.h"

#include <algorithm>
#include <cstdio>

#include "core/check.h"

namespace swarm::net {
namespace {

// "60 s", "2.5 s".
std::string Seconds(core::Duration d) {
  char buf[32];
  const double s = d.seconds();
  std::snprintf(buf, sizeof buf, s == static_cast<double>(static_cast<int64_t>(s)) ? "%.0f s"
                                                                                    : "%.1f s",
                s);
  return buf;
}

}  // namespace

LogLimiter::LogLimiter(LogLimiterOptions options) : options_(options) {
  SWARM_CHECK(options_.interval > core::Duration::Zero());
  SWARM_CHECK(options_.max_hosts > 0);
}

bool LogLimiter::Allow(core::Time now, const std::string& host) {
  auto it = hosts_.find(host);
  if (it == hosts_.end()) {
    if (hosts_.size() >= options_.max_hosts) Evict(now);
    it = hosts_.emplace(host, Window{now}).first;
  } else if (now - it->second.start >= options_.interval) {
    Summarise(host, it->second, now);
    it->second = Window{now};
  }
  Window& w = it->second;
  if (w.written < options_.lines_per_interval) {
    ++w.written;
    return true;
  }
  ++w.suppressed;
  return false;
}

std::vector<std::string> LogLimiter::TakeSummaries(core::Time now) {
  for (auto it = hosts_.begin(); it != hosts_.end();) {
    if (now - it->second.start >= options_.interval) {
      Summarise(it->first, it->second, now);
      it = hosts_.erase(it);
    } else {
      ++it;
    }
  }
  std::vector<std::string> out;
  out.swap(due_);
  return out;
}

std::vector<std::string> LogLimiter::Flush(core::Time now) {
  for (const auto& [host, w] : hosts_) Summarise(host, w, now);
  hosts_.clear();
  std::vector<std::string> out;
  out.swap(due_);
  return out;
}

void LogLimiter::Summarise(const std::string& host, const Window& w, core::Time end) {
  if (w.suppressed == 0) return;
  // The span the count covers: the interval, or less for a host
  // forgotten early.
  const core::Duration span = std::min(end - w.start, options_.interval);
  due_.push_back("suppressed " + std::to_string(w.suppressed) +
                 (w.suppressed == 1 ? " message from " : " messages from ") +
                 (host.empty() ? std::string("an unknown address") : host) + " in " +
                 Seconds(span) + " (at most " + std::to_string(options_.lines_per_interval) +
                 " are written per " + Seconds(options_.interval) + ")");
}

void LogLimiter::Evict(core::Time now) {
  auto oldest = std::min_element(hosts_.begin(), hosts_.end(), [](const auto& a, const auto& b) {
    return a.second.start < b.second.start;
  });
  Summarise(oldest->first, oldest->second, now);
  hosts_.erase(oldest);
}

}  // namespace swarm::net
