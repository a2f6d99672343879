#include "sim/theory/fluid_model.h"

#include <gtest/gtest.h>

#include <cmath>

#include "sim/theory/units.h"

namespace swarm::sim::theory {
namespace {

using core::Duration;
using core::kMiB;
using core::Rate;

constexpr double kFileOverUpload = 838.8608;    // 100 MiB at 1 Mb/s, seconds.
constexpr double kFileOverDownload = 209.7152;  // 100 MiB at 4 Mb/s.

// VALIDATION.md V2: lambda = 0.2/s, u = 1 Mb/s, d = 4 Mb/s, F = 100 MiB,
// theta = 0, eta = 1, the given mean seeding time.
FluidParams V2(int64_t mean_seeding_s, double lambda = 0.2) {
  return FluidParams::FromSwarm(lambda, 100 * kMiB, Rate::MegabitsPerSecond(1),
                                Rate::MegabitsPerSecond(4),
                                Duration::Seconds(mean_seeding_s));
}

// 1/beta = max(209.7152, 838.8608 - 300) = 538.8608 s: upload-constrained.
// ybar = lambda/gamma = 0.2 * 300 = 60; xbar = lambda * T = 107.77.
TEST(FluidSteadyStateTest, ValidationV2UploadConstrained) {
  const FluidSteadyState s = FluidSteadyStateOf(V2(300));
  EXPECT_EQ(s.regime, FluidRegime::kUploadConstrained);
  EXPECT_NEAR(s.download_time_s, 538.8608, 1e-6);
  EXPECT_NEAR(s.seeds, 60.0, 1e-9);
  EXPECT_NEAR(s.leechers, 107.77216, 1e-6);
  EXPECT_NEAR(1.0 / s.beta, 538.8608, 1e-6);
}

// 1/beta = max(209.7152, 838.8608 - 1800 < 0) = 209.7152 s:
// download-constrained. ybar = 0.2 * 1800 = 360.
TEST(FluidSteadyStateTest, ValidationV2DownloadConstrained) {
  const FluidSteadyState s = FluidSteadyStateOf(V2(1800));
  EXPECT_EQ(s.regime, FluidRegime::kDownloadConstrained);
  EXPECT_NEAR(s.download_time_s, kFileOverDownload, 1e-6);
  EXPECT_NEAR(s.seeds, 360.0, 1e-9);
  EXPECT_NEAR(s.leechers, 0.2 * kFileOverDownload, 1e-6);
}

TEST(FluidSteadyStateTest, DownloadTimeDoesNotDependOnArrivalRate) {
  for (int64_t seeding : {300, 1800}) {
    const double t = FluidSteadyStateOf(V2(seeding)).download_time_s;
    for (double lambda : {0.0, 0.05, 1.0}) {
      EXPECT_DOUBLE_EQ(FluidSteadyStateOf(V2(seeding, lambda)).download_time_s,
                       t);
    }
  }
}

// The regimes meet where 1/mu - 1/gamma = 1/c: a mean seeding time of
// 838.8608 - 209.7152 = 629.1456 s.
TEST(FluidSteadyStateTest, RegimeSwitchesAtTheCrossover) {
  EXPECT_EQ(FluidSteadyStateOf(V2(629)).regime,
            FluidRegime::kUploadConstrained);
  EXPECT_NEAR(FluidSteadyStateOf(V2(629)).download_time_s, 209.8608, 1e-6);
  EXPECT_EQ(FluidSteadyStateOf(V2(630)).regime,
            FluidRegime::kDownloadConstrained);
  EXPECT_NEAR(FluidSteadyStateOf(V2(630)).download_time_s, kFileOverDownload,
              1e-6);
  EXPECT_STREQ(FluidRegimeName(FluidRegime::kUploadConstrained),
               "upload-constrained");
}

// theta = 0.001/s on V2(300): beta = 1/538.8608;
// T = 1/(theta + beta) = 350.1686 s, xbar = 0.2 T = 70.0337,
// ybar = 60/(1 + theta/beta) = 60/1.5388608 = 38.9899.
TEST(FluidSteadyStateTest, Aborts) {
  FluidParams p = V2(300);
  p.abort_rate = 0.001;
  const FluidSteadyState s = FluidSteadyStateOf(p);
  EXPECT_NEAR(s.download_time_s, 350.1686442, 1e-6);
  EXPECT_NEAR(s.leechers, 70.0337288, 1e-6);
  EXPECT_NEAR(s.seeds, 38.9898813, 1e-6);
}

TEST(FluidSteadyStateTest, LowerEfficiencyLengthensUploadBoundDownloads) {
  FluidParams p = V2(300);
  p.efficiency = 0.5;  // (1/eta)(1/mu - 1/gamma) = 2 * 538.8608.
  EXPECT_NEAR(FluidSteadyStateOf(p).download_time_s, 1077.7216, 1e-6);
}

// One permanent seed at 1 Mb/s (mu_s = mu): upload balance
// lambda (1 - mu/gamma) - mu_s = mu * xbar gives xbar = 106.77216 and
// T = xbar/lambda = 538.8608 - 5 = 533.8608 s; ybar stays lambda/gamma.
TEST(FluidSteadyStateTest, PermanentSeedAddsItsUpload) {
  const FluidParams p = FluidParams::FromSwarm(
      0.2, 100 * kMiB, Rate::MegabitsPerSecond(1), Rate::MegabitsPerSecond(4),
      Duration::Seconds(300), 0, 1.0, Rate::MegabitsPerSecond(1));
  const FluidSteadyState s = FluidSteadyStateOf(p);
  EXPECT_EQ(s.regime, FluidRegime::kUploadConstrained);
  EXPECT_NEAR(s.download_time_s, 533.8608, 1e-6);
  EXPECT_NEAR(s.leechers, 106.77216, 1e-6);
  EXPECT_NEAR(s.seeds, 60.0, 1e-9);
}

// The permanent-seed solver and the paper's formulas agree as mu_s -> 0.
TEST(FluidSteadyStateTest, SeededSolverMatchesPaperInTheLimit) {
  for (int64_t seeding : {300, 1800}) {
    for (double theta : {0.0, 0.002}) {
      FluidParams p = V2(seeding);
      p.abort_rate = theta;
      const FluidSteadyState paper = FluidSteadyStateOf(p);
      p.permanent_seed_upload = 1e-12;
      const FluidSteadyState seeded = FluidSteadyStateOf(p);
      EXPECT_EQ(seeded.regime, paper.regime);
      EXPECT_NEAR(seeded.download_time_s, paper.download_time_s, 1e-6);
      EXPECT_NEAR(seeded.leechers, paper.leechers, 1e-6);
      EXPECT_NEAR(seeded.seeds, paper.seeds, 1e-6);
    }
  }
}

// The closed form is an equilibrium of the ODE, in every variant.
TEST(FluidSteadyStateTest, DerivativeVanishesThere) {
  for (int64_t seeding : {300, 629, 630, 1800}) {
    for (double theta : {0.0, 0.001}) {
      for (double seed_mu : {0.0, 1.0 / kFileOverUpload}) {
        FluidParams p = V2(seeding);
        p.abort_rate = theta;
        p.permanent_seed_upload = seed_mu;
        const FluidSteadyState s = FluidSteadyStateOf(p);
        const Eigen::Vector2d d =
            FluidDerivative(p, Eigen::Vector2d(s.leechers, s.seeds));
        EXPECT_NEAR(d(0), 0.0, 1e-12)
            << seeding << " " << theta << " " << seed_mu;
        EXPECT_NEAR(d(1), 0.0, 1e-12)
            << seeding << " " << theta << " " << seed_mu;
      }
    }
  }
}

TEST(FluidSteadyStateTest, NoCapacityGivesInfinityNotNaN) {
  FluidParams p = V2(300);
  p.upload = 0;  // Nobody uploads: nobody ever finishes.
  FluidSteadyState s = FluidSteadyStateOf(p);
  EXPECT_EQ(s.download_time_s, kNever);
  EXPECT_EQ(s.leechers, kNever);
  EXPECT_EQ(s.seeds, 0.0);
  EXPECT_EQ(s.beta, 0.0);

  p.abort_rate = 0.01;  // ... but leechers give up after 100 s on average.
  s = FluidSteadyStateOf(p);
  EXPECT_DOUBLE_EQ(s.download_time_s, 100.0);
  EXPECT_DOUBLE_EQ(s.leechers, 20.0);
  EXPECT_EQ(s.seeds, 0.0);

  p = V2(300);
  p.download = 0;
  s = FluidSteadyStateOf(p);
  EXPECT_EQ(s.regime, FluidRegime::kDownloadConstrained);
  EXPECT_EQ(s.download_time_s, kNever);

  p.permanent_seed_upload =
      1e-3;  // Seeds cannot help leechers that cannot download.
  s = FluidSteadyStateOf(p);
  EXPECT_EQ(s.download_time_s, kNever);
  EXPECT_EQ(s.leechers, kNever);
  EXPECT_EQ(s.seeds, 0.0);
  EXPECT_FALSE(std::isnan(s.beta));

  p = V2(300);
  p.upload = 0;
  p.permanent_seed_upload = 0.1 / kFileOverUpload;  // Serves 0.1/s < lambda.
  s = FluidSteadyStateOf(p);
  EXPECT_EQ(s.regime, FluidRegime::kUploadConstrained);
  EXPECT_EQ(s.leechers, kNever);
  EXPECT_NEAR(s.seeds, 0.1 / kFileOverUpload * 300, 1e-12);
}

TEST(FluidSteadyStateTest, SeedsLeavingAtOnceAndUnlimitedDownload) {
  FluidParams p = V2(0);  // Mean seeding 0: gamma = infinity.
  EXPECT_EQ(p.seed_departure_rate, kNever);
  FluidSteadyState s = FluidSteadyStateOf(p);
  EXPECT_NEAR(s.download_time_s, kFileOverUpload,
              1e-6);  // Only leechers serve.
  EXPECT_EQ(s.seeds, 0.0);

  p = V2(300);
  p.download = kNever;  // Unlimited download: still upload-constrained.
  s = FluidSteadyStateOf(p);
  EXPECT_EQ(s.regime, FluidRegime::kUploadConstrained);
  EXPECT_NEAR(s.download_time_s, 538.8608, 1e-6);
}

TEST(FluidOdeTest, SamplesAtTheRequestedTimes) {
  const auto traj = IntegrateFluid(V2(300), Eigen::Vector2d::Zero(), 1000, 100);
  ASSERT_EQ(traj.size(), 11u);
  EXPECT_EQ(traj[0].time_s, 0.0);
  EXPECT_EQ(traj[0].leechers, 0.0);
  EXPECT_EQ(traj[10].time_s, 1000.0);
  EXPECT_EQ(
      IntegrateFluid(V2(300), Eigen::Vector2d::Zero(), 0.3, 0.1, 0.01).size(),
      4u);
}

TEST(FluidOdeTest, Deterministic) {
  const auto a = IntegrateFluid(V2(300), Eigen::Vector2d(5, 1), 5000, 50, 0.7);
  const auto b = IntegrateFluid(V2(300), Eigen::Vector2d(5, 1), 5000, 50, 0.7);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].leechers, b[i].leechers);
    EXPECT_EQ(a[i].seeds, b[i].seeds);
  }
}

// With c = 0 nobody completes and dx/dt = lambda - theta x has the solution
// x(t) = (lambda/theta)(1 - exp(-theta t)): checks the integrator itself.
TEST(FluidOdeTest, MatchesAnAnalyticSolution) {
  FluidParams p = V2(300);
  p.download = 0;
  p.abort_rate = 0.01;
  const auto traj = IntegrateFluid(p, Eigen::Vector2d::Zero(), 500, 50, 1.0);
  for (const FluidSample& s : traj) {
    EXPECT_NEAR(s.leechers, 20.0 * (1 - std::exp(-0.01 * s.time_s)), 1e-9);
    EXPECT_EQ(s.seeds, 0.0);
  }
}

// The ODE from an empty swarm converges to the closed form within 0.5%
// (VALIDATION.md V2 both regimes, with and without aborts and a permanent
// seed). The slowest mode decays like exp(-t/1800 s), so 40,000 s is ample.
TEST(FluidOdeTest, ConvergesToTheSteadyState) {
  for (int64_t seeding : {300, 1800}) {
    for (double theta : {0.0, 0.001}) {
      for (double seed_mu : {0.0, 1.0 / kFileOverUpload}) {
        FluidParams p = V2(seeding);
        p.abort_rate = theta;
        p.permanent_seed_upload = seed_mu;
        const FluidSteadyState s = FluidSteadyStateOf(p);
        const auto traj =
            IntegrateFluid(p, Eigen::Vector2d::Zero(), 40000, 1000);
        const FluidSample& end = traj.back();
        SCOPED_TRACE(testing::Message() << "seeding " << seeding << " theta "
                                        << theta << " seed " << seed_mu);
        EXPECT_NEAR(end.leechers, s.leechers, 0.005 * s.leechers);
        EXPECT_NEAR(end.seeds, s.seeds, 0.005 * s.seeds);
        // Little's law on the ODE's leechers gives T (theta = 0: x = lambda T).
        if (theta == 0) {
          EXPECT_NEAR(end.leechers / p.arrival_rate, s.download_time_s,
                      0.005 * s.download_time_s);
        }
      }
    }
  }
}

TEST(FluidOdeDeathTest, RejectsInvalidParameters) {
  FluidParams p = V2(300);
  p.efficiency = 0;
  EXPECT_DEATH(FluidSteadyStateOf(p), "CHECK failed");
  p = V2(300);
  p.arrival_rate = NAN;
  EXPECT_DEATH(FluidSteadyStateOf(p), "CHECK failed");
  EXPECT_DEATH(IntegrateFluid(V2(0), Eigen::Vector2d::Zero(), 10, 1),
               "CHECK failed");  // gamma = infinity cannot be integrated.
}

}  // namespace
}  // namespace swarm::sim::theory
