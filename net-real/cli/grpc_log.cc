#include "net-real/cli/grpc_log.h"

#include <grpc/support/log.h>

#include <mutex>
#include <string>
#include <vector>

// gRPC's own default log function (src/core/lib/gpr/log.cc): exported by
// libgpr but declared in no public header. Lines held and then shown are
// printed with it, exactly as gRPC would have.
void gpr_default_log(gpr_log_func_args* args);

namespace swarm::net::cli {
namespace {

struct HeldLine {
  const char* file;  // gRPC passes __FILE__: static storage
  int line;
  gpr_log_severity severity;
  std::string message;
};

std::mutex g_mu;
std::vector<HeldLine> g_held;
bool g_holding = false;  // guarded by g_mu

void Hold(gpr_log_func_args* args) {
  {
    std::lock_guard<std::mutex> lock(g_mu);
    if (g_holding) {
      g_held.push_back(HeldLine{args->file, args->line, args->severity, args->message});
      return;
    }
  }
  // A thread that fetched this function just before Release put gRPC's
  // default back: print its line now, rather than append it to a list
  // already taken (it would be lost). g_holding is only false while the
  // default is installed (the constructor sets it before installing Hold,
  // Release clears it after putting the default back).
  gpr_default_log(args);
}

}  // namespace

GrpcLogHold::GrpcLogHold() {
  {
    std::lock_guard<std::mutex> lock(g_mu);
    g_holding = true;
  }
  gpr_set_log_function(&Hold);
}

GrpcLogHold::~GrpcLogHold() { Release(true); }

void GrpcLogHold::Release(bool show) {
  if (released_) return;
  released_ = true;
  gpr_set_log_function(&gpr_default_log);
  std::vector<HeldLine> held;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    g_holding = false;
    held.swap(g_held);
  }
  if (!show) return;
  // Severity was already filtered (GRPC_VERBOSITY) before Hold saw them.
  for (const HeldLine& h : held) {
    gpr_log_func_args args{h.file, h.line, h.severity, h.message.c_str()};
    gpr_default_log(&args);
  }
}

}  // namespace swarm::net::cli
