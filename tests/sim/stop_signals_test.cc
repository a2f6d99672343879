// RunStoppably (sim/stop_signals.h): how a helper program's end is told.
#include "sim/stop_signals.h"

#include <gtest/gtest.h>
#include <signal.h>

namespace swarm::sim {
namespace {

// With SIGCHLD ignored (inherited from a parent that ignores it), the
// kernel reaps children unseen: waitpid fails with ECHILD. A program that
// failed must still count as failed. (RunStoppably took the unset status,
// 0, for success: a failed --plot script was reported as plotted.)
TEST(RunStoppably, TellsFailureFromSuccessWithSigchldIgnored) {
  struct sigaction before;
  sigaction(SIGCHLD, nullptr, &before);
  ::signal(SIGCHLD, SIG_IGN);
  const ChildOutcome failed = RunStoppably({"/bin/false"});
  const ChildOutcome passed = RunStoppably({"/bin/true"});
  struct sigaction after;
  sigaction(SIGCHLD, nullptr, &after);
  sigaction(SIGCHLD, &before, nullptr);
  EXPECT_TRUE(failed.started);
  EXPECT_TRUE(failed.reaped);
  EXPECT_FALSE(failed.ok());
  EXPECT_TRUE(passed.ok());
  EXPECT_EQ(after.sa_handler, SIG_IGN);  // put back as it was
}

TEST(RunStoppably, ReportsAProgramThatCannotStart) {
  const ChildOutcome c = RunStoppably({"/nonexistent/program"});
  EXPECT_FALSE(c.started);
  EXPECT_FALSE(c.ok());
}

}  // namespace
}  // namespace swarm::sim
