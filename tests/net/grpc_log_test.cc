#include "net-real/cli/grpc_log.h"

#include <grpc/grpc.h>
#include <grpc/support/log.h>

#include <string>

#include <gtest/gtest.h>

#include "net-real/peer_transport.h"

namespace swarm::net::cli {
namespace {

using ::testing::internal::CaptureStderr;
using ::testing::internal::GetCapturedStderr;

// gRPC logs nothing before it is initialised (as it is by the time
// `swarm` starts a server); its default verbosity then shows errors.
class GrpcLogHoldTest : public ::testing::Test {
 protected:
  GrpcLogHoldTest() { grpc_init(); }
  ~GrpcLogHoldTest() override { grpc_shutdown(); }
};

TEST_F(GrpcLogHoldTest, DroppedLinesNeverAppear) {
  CaptureStderr();
  {
    GrpcLogHold hold;
    gpr_log(GPR_ERROR, "held line %d", 1);
    hold.Release(false);
  }
  gpr_log(GPR_ERROR, "after the hold");
  const std::string err = GetCapturedStderr();
  EXPECT_EQ(err.find("held line 1"), std::string::npos) << err;
  EXPECT_NE(err.find("after the hold"), std::string::npos) << err;  // logging restored
}

TEST_F(GrpcLogHoldTest, ShownLinesComeOutAtRelease) {
  CaptureStderr();
  GrpcLogHold hold;
  gpr_log(GPR_ERROR, "held line %d", 2);
  gpr_log(GPR_ERROR, "held line %d", 3);
  const std::string while_held = GetCapturedStderr();
  CaptureStderr();
  hold.Release(true);
  const std::string released = GetCapturedStderr();
  EXPECT_EQ(while_held.find("held line"), std::string::npos) << while_held;
  const size_t two = released.find("held line 2"), three = released.find("held line 3");
  ASSERT_NE(two, std::string::npos) << released;
  ASSERT_NE(three, std::string::npos) << released;
  EXPECT_LT(two, three);
}

// A server started while the log is held leaves the hold in force (before
// 2026-11-28 a server installed a log function of its own, the listener
// watch, unless a hold came first).
TEST_F(GrpcLogHoldTest, AServerStartedInTheHoldKeepsIt) {
  CaptureStderr();
  GrpcLogHold hold;
  std::string error;
  auto server = PeerServer::Start("127.0.0.1:0", &error);
  ASSERT_TRUE(server) << error;
  gpr_log(GPR_ERROR, "held line %d", 4);
  const std::string while_held = GetCapturedStderr();
  hold.Release(false);
  EXPECT_EQ(while_held.find("held line 4"), std::string::npos) << while_held;
}

}  // namespace
}  // namespace swarm::net::cli
