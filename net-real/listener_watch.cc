#include "net-real/listener_watch.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>

// gRPC's own default log function (src/core/lib/gpr/log.cc): exported by
// libgpr but declared in no public header. gpr_set_log_function(nullptr)
// would install it, but then the watch would be gone.
void gpr_default_log(gpr_log_func_args* args);

namespace swarm::net {
namespace {

std::atomic<uint64_t> g_listener_failures{0};

// tcp_server_posix.cc's line, logged just before it stops accepting on the
// socket for good.
constexpr char kAcceptFailed[] = "Failed accept4";

bool SaysAcceptFailed(const char* message) {
  return message != nullptr &&
         std::strncmp(message, kAcceptFailed, sizeof kAcceptFailed - 1) == 0;
}

// Set while this thread retries listening on a port it could not listen on
// before: gRPC's line about the bind failing again is not printed (its
// first was, and the command says once that the port is down).
thread_local bool t_retrying = false;

void Watch(gpr_log_func_args* args) {
  NoteGrpcLogLine(args->message);
  if (t_retrying && !SaysAcceptFailed(args->message)) return;
  PrintGrpcLogLine(args);
}

}  // namespace

void WatchListeners() {
  static std::once_flag once;
  std::call_once(once, [] { gpr_set_log_function(&Watch); });
}

void RestoreListenerWatch() { gpr_set_log_function(&Watch); }

void NoteGrpcLogLine(const char* message) {
  if (SaysAcceptFailed(message)) g_listener_failures.fetch_add(1);
}

void PrintGrpcLogLine(gpr_log_func_args* args) { gpr_default_log(args); }

uint64_t ListenerFailures() { return g_listener_failures.load(); }

void ListenRetry::Failed(Clock::time_point now, const std::string& error) {
  // The first failure follows a stop; a retry of its own is due a second
  // later.
  if (!down_) wait_ = kFirstRetry;
  down_ = true;
  last_error_ = error;
  next_ = now + wait_;
  wait_ = std::min(wait_ * 2, kMaxRetry);
}

void ListenRetry::Succeeded() {
  down_ = false;
  last_error_.clear();
  next_ = {};
  wait_ = kFirstRetry;
}

Relisten RelistenIfDeaf(bool up, uint64_t seen, ListenRetry* retry,
                        const std::function<void()>& stop,
                        const std::function<bool(const std::string&, std::string*)>& listen,
                        const std::string& host, int* port,
                        const std::function<void()>& between, std::string* error) {
  const auto now = ListenRetry::Clock::now();
  const int same_port = *port;
  if (up) {
    if (ListenerFailures() == seen) return Relisten::kListening;
    stop();
    if (between) between();
  } else if (!retry->down()) {
    return Relisten::kListening;  // shut down for good (REQUIRES says not to ask)
  } else if (!retry->Due(now)) {
    *error = retry->last_error();
    return Relisten::kFailed;
  }
  t_retrying = retry->down();
  const bool listening = listen(host + ":" + std::to_string(same_port), error);
  t_retrying = false;
  if (listening) {
    retry->Succeeded();
    return Relisten::kRestarted;
  }
  *port = same_port;
  retry->Failed(now, *error);
  return Relisten::kFailed;
}

}  // namespace swarm::net
