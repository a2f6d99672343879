#include "net-real/listener_watch.h"

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

void Watch(gpr_log_func_args* args) {
  NoteGrpcLogLine(args->message);
  PrintGrpcLogLine(args);
}

}  // namespace

void WatchListeners() {
  static std::once_flag once;
  std::call_once(once, [] { gpr_set_log_function(&Watch); });
}

void RestoreListenerWatch() { gpr_set_log_function(&Watch); }

void NoteGrpcLogLine(const char* message) {
  // tcp_server_posix.cc's line, logged just before it closes the listener.
  static constexpr char kAcceptFailed[] = "Failed accept4";
  if (message != nullptr && std::strncmp(message, kAcceptFailed, sizeof kAcceptFailed - 1) == 0) {
    g_listener_failures.fetch_add(1);
  }
}

void PrintGrpcLogLine(gpr_log_func_args* args) { gpr_default_log(args); }

uint64_t ListenerFailures() { return g_listener_failures.load(); }

}  // namespace swarm::net
