// `sim run` interrupted while it writes its results or runs --plot: what
// stays on disk and how sim ends. Runs the sim binary (SIM_BINARY).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace fs = std::filesystem;

std::string TempPath(const std::string& name) {
  return testing::TempDir() + "/" + std::to_string(getpid()) + "_" + name;
}

// 21 peers done in seconds, then sampled every millisecond up to max_time:
// a timeline of (max_time / 1 ms) rows, tens of MB to format and write.
std::string BigTimelineScenario(int max_time_s) {
  return "name: big_timeline\n"
         "stop: {all_complete: false, max_time: " + std::to_string(max_time_s) + "s}\n"
         "file: {size: 2MiB, piece_size: 256KiB, block_size: 16KiB}\n"
         "peers:\n"
         "  - {class: seed, count: 1, upload: 10Mbit/s, download: 100Mbit/s, start: complete}\n"
         "  - {class: leecher, count: 20, upload: 1Mbit/s, download: 8Mbit/s,\n"
         "     arrival: {uniform: [0s, 10s]}}\n"
         "sample_interval: 1ms\n";
}

// Starts `sim ARGS...` in a process group of its own (as a shell job is),
// with SIGINT at its default action, stderr to `err`.
pid_t StartSim(const std::vector<std::string>& args, const std::string& err) {
  const pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    if (!freopen(err.c_str(), "w", stderr) || !freopen("/dev/null", "w", stdout)) _exit(126);
    std::vector<char*> argv{const_cast<char*>(SIM_BINARY)};
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(SIM_BINARY, argv.data());
    _exit(127);
  }
  setpgid(pid, pid);  // also here, so it holds before we signal the group
  return pid;
}

// Polls every 100 µs until `ready()` or sim ends; true if ready.
template <typename F>
bool WaitFor(pid_t pid, F ready, int* status, bool* ended) {
  for (int i = 0; i < 1'200'000; ++i) {  // 2 minutes
    if (ready()) return true;
    if (waitpid(pid, status, WNOHANG) == pid) {
      *ended = true;
      return false;
    }
    usleep(100);
  }
  return false;
}

std::vector<std::string> Partials(const std::string& dir) {
  std::vector<std::string> found;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.path().filename().string().find(".partial") != std::string::npos)
      found.push_back(e.path().filename().string());
  return found;
}

// Any result file or a .partial in `dir`: the writing has begun.
bool WritingBegun(const std::string& dir) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    (void)e;
    return true;
  }
  return false;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Ctrl-C while the result files are being written: before the run's
// summary.json is in place, a folder the run made is removed with all it
// holds, and no .partial file stays anywhere; a folder that was there
// before keeps what it held (less its old summary.json, as after any
// rewrite cut short). sim ends by the signal. (sim used to drop its
// handler before writing: peers.csv and a .timeline.csv.PID.partial stayed.)
TEST(CliInterrupt, WhileWritingResultsLeavesNoFolderAndNoPartialFile) {
  const std::string base = TempPath("write_interrupted");
  fs::remove_all(base);
  fs::create_directories(base);
  const std::string file = base + "/big.yaml", err = base + "/err.txt";
  int caught_new = 0, caught_old = 0;
  for (int attempt = 0; attempt < 6 && (caught_new == 0 || caught_old == 0); ++attempt) {
    std::ofstream(file) << BigTimelineScenario(400 + 400 * attempt);
    // Odd attempts: into a folder holding an earlier run's files.
    const bool existing = attempt % 2 == 1;
    const std::string out = base + "/out" + std::to_string(attempt);
    if (existing) {
      fs::create_directories(out);
      std::ofstream(out + "/peers.csv") << "earlier\n";
      std::ofstream(out + "/notes.txt") << "mine\n";
    }
    const pid_t pid = StartSim({"run", file, "--quiet", "--out", out}, err);
    int status = 0;
    bool ended = false;
    auto begun = [&] {
      return existing ? !Partials(out).empty() : fs::exists(out) && WritingBegun(out);
    };
    const bool ready = WaitFor(pid, begun, &status, &ended);
    if (ready) kill(pid, SIGINT);
    if (!ended) {
      ASSERT_EQ(waitpid(pid, &status, 0), pid);
    }
    ASSERT_TRUE(ready || WIFEXITED(status)) << "status " << status << ": " << ReadFile(err);
    if (!ready || !WIFSIGNALED(status)) continue;  // done before the signal: try a longer run
    EXPECT_EQ(WTERMSIG(status), SIGINT);
    const bool complete = fs::exists(out + "/summary.json");
    if (existing) {
      ASSERT_TRUE(fs::exists(out));
      EXPECT_EQ(Partials(out), std::vector<std::string>{}) << "attempt " << attempt;
      EXPECT_EQ(ReadFile(out + "/notes.txt"), "mine\n");
      if (!complete) ++caught_old;
    } else if (!complete) {
      EXPECT_FALSE(fs::exists(out)) << "attempt " << attempt << ": left "
                                    << (fs::exists(out) ? Partials(out).size() : 0)
                                    << " partial file(s)";
      ++caught_new;
    } else {
      EXPECT_EQ(Partials(out), std::vector<std::string>{});
    }
  }
  EXPECT_GT(caught_new, 0) << "never interrupted mid-write into a new folder";
  EXPECT_GT(caught_old, 0) << "never interrupted mid-write into an existing folder";
  fs::remove_all(base);
}

// Two runs share one --out folder that both found missing (the default
// results/NAME-seedN, say): run A finishes there while run B, which made
// the folder, still simulates. Interrupting B must not touch A's files.
// (sim used to decide "the run made this folder, so every result file in
// it is its own" and unlinked A's peers.csv, summary.json, ... on Ctrl-C.)
TEST(CliInterrupt, KeepsResultsAnotherRunWroteIntoTheFolderItMade) {
  const std::string base = TempPath("shared_out");
  fs::remove_all(base);
  fs::create_directories(base);
  const std::string file = base + "/big.yaml", err = base + "/err.txt";
  const std::string out = base + "/shared";
  std::ofstream(file) << BigTimelineScenario(5000);  // simulates for seconds
  const pid_t pid = StartSim({"run", file, "--quiet", "--out", out}, err);
  int status = 0;
  bool ended = false;
  ASSERT_TRUE(WaitFor(pid, [&] { return fs::exists(out); }, &status, &ended)) << ReadFile(err);
  // Run A's results, written while B simulates.
  for (const char* name : {"peers.csv", "timeline.csv", "scenario.yaml", "summary.json"})
    std::ofstream(out + "/" + name) << "run A\n";
  kill(pid, SIGINT);
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "status " << status << ": " << ReadFile(err);
  for (const char* name : {"peers.csv", "timeline.csv", "scenario.yaml", "summary.json"})
    EXPECT_EQ(ReadFile(out + "/" + name), "run A\n") << name;
  EXPECT_EQ(Partials(out), std::vector<std::string>{});
  fs::remove_all(base);
}

// Ctrl-C during the run says in one line when it came and what it left
// (sim used to end without a word, its new folder quietly removed): a
// folder it made is named as removed, one that was there is left as it was.
TEST(CliInterrupt, DuringTheRunSaysWhenAndWhatItLeft) {
  const std::string base = TempPath("says_what_it_left");
  fs::remove_all(base);
  fs::create_directories(base + "/there");
  const std::string file = base + "/big.yaml", err = base + "/err.txt";
  std::ofstream(file) << BigTimelineScenario(5000);  // simulates for seconds
  for (const std::string& out : {base + "/new", base + "/there"}) {
    const bool made = out == base + "/new";
    const pid_t pid = StartSim({"run", file, "--quiet", "--out", out}, err);
    int status = 0;
    bool ended = false;
    ASSERT_TRUE(WaitFor(pid, [&] { return fs::exists(out); }, &status, &ended)) << ReadFile(err);
    usleep(1'000'000);  // well into the run (it simulates for seconds)
    kill(pid, SIGINT);
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << "status " << status << ": " << ReadFile(err);
    const std::string text = ReadFile(err);
    const std::string start = "sim run: interrupted by SIGINT at sim time ";
    ASSERT_EQ(text.rfind(start, 0), 0u) << text;
    const size_t number_end = text.find(" s; ", start.size());
    ASSERT_NE(number_end, std::string::npos) << text;
    EXPECT_GT(std::stod(text.substr(start.size(), number_end - start.size())), 0) << text;
    EXPECT_EQ(text.substr(number_end),
              made ? " s; nothing written (removed " + out + ")\n"
                   : " s; nothing written (" + out + " is as it was)\n");
    EXPECT_EQ(fs::exists(out), !made);
  }
  fs::remove_all(base);
}

// The time said is the one the run reached, not the one its last progress
// report gave. Here every event is a costly sample (1 ms apart, each over
// 65536 pieces): the first progress report, due after 16384 events, is
// seconds of wall time away, and an interrupt before it used to say "at sim
// time 0.0 s" whatever the run had simulated.
TEST(CliInterrupt, BeforeTheFirstProgressReportSaysTheTimeReached) {
  const std::string base = TempPath("time_reached");
  fs::remove_all(base);
  fs::create_directories(base);
  const std::string file = base + "/slow.yaml", err = base + "/err.txt";
  const std::string out = base + "/out";
  std::ofstream(file) << "name: slow_samples\n"
                         "stop: {all_complete: false, max_time: 5000s}\n"
                         "file: {size: 1GiB, piece_size: 16KiB, block_size: 16KiB}\n"
                         "peers:\n"
                         "  - {class: seed, count: 1, upload: 10Mbit/s, download: 100Mbit/s,\n"
                         "     start: complete}\n"
                         "  - {class: leecher, count: 2, upload: 1Mbit/s, download: 8Mbit/s}\n"
                         "sample_interval: 1ms\n";
  const pid_t pid = StartSim({"run", file, "--quiet", "--out", out}, err);
  int status = 0;
  bool ended = false;
  ASSERT_TRUE(WaitFor(pid, [&] { return fs::exists(out); }, &status, &ended)) << ReadFile(err);
  usleep(1'500'000);
  kill(pid, SIGINT);
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "status " << status << ": " << ReadFile(err);
  std::string text = ReadFile(err);
  // Slow on purpose (65536 pieces of one block), so `sim run` warns first
  // (SlowPiecePicking).
  while (text.rfind("sim: warning: ", 0) == 0) text.erase(0, text.find('\n') + 1);
  const std::string start = "sim run: interrupted by SIGINT at sim time ";
  ASSERT_EQ(text.rfind(start, 0), 0u) << text;
  const double said = std::stod(text.substr(start.size()));
  EXPECT_GT(said, 0) << text;
  fs::remove_all(base);
}

// Whether a child of `parent` runs a program whose command line holds
// `needle` (read from /proc: the parent pid in stat, the arguments in
// cmdline; a child between fork and exec still shows sim's own).
bool ChildRuns(pid_t parent, const std::string& needle) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    const std::string pid = e.path().filename().string();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string stat = ReadFile(e.path().string() + "/stat");
    const size_t close = stat.rfind(')');  // the name in (...) may hold spaces
    if (close == std::string::npos) continue;
    std::istringstream fields(stat.substr(close + 1));
    std::string state;
    pid_t ppid = 0;
    if (!(fields >> state >> ppid) || ppid != parent) continue;
    std::string cmdline = ReadFile(e.path().string() + "/cmdline");
    for (char& c : cmdline)
      if (c == '\0') c = ' ';
    if (cmdline.find(needle) != std::string::npos) return true;
  }
  return false;
}

bool HaveMatplotlib() {
  return std::system("/usr/bin/python3 -c 'import matplotlib' 2>/dev/null") == 0;
}

// Ctrl-C (to the whole process group, as a terminal sends it) or SIGTERM
// (to sim alone) while --plot's script runs: the script stops, sim ends by
// the signal (exit status 130 / 143), and no Python traceback is printed.
// (sim used to run the script with std::system, which ignores SIGINT: it
// reported "--plot ... failed" after the script's KeyboardInterrupt
// traceback and exited 1; SIGTERM killed sim and left the script running.)
TEST(CliInterrupt, DuringPlotEndsBySignalWithoutTraceback) {
  if (!HaveMatplotlib()) GTEST_SKIP() << "no python3-matplotlib";
  const std::string base = TempPath("plot_interrupted");
  fs::remove_all(base);
  fs::create_directories(base);
  const std::string file = base + "/small.yaml", err = base + "/err.txt";
  std::ofstream(file) << BigTimelineScenario(20);
  for (const int sig : {SIGINT, SIGTERM}) {
    const std::string out = base + "/out" + std::to_string(sig);
    const pid_t pid = StartSim({"run", file, "--quiet", "--plot", "--out", out}, err);
    int status = 0;
    bool ended = false;
    ASSERT_TRUE(WaitFor(pid, [&] { return fs::exists(out + "/summary.json"); }, &status, &ended))
        << ReadFile(err);
    // SIGINT into plot_run.py, SIGTERM into whichever Python sim runs first
    // (the matplotlib check, or plot_run.py if that check was too quick to
    // see): polled, not timed, so neither a fast machine nor a loaded one
    // sends it before or after the script.
    const std::string needle = sig == SIGINT ? "plot_run.py" : "python3";
    ASSERT_TRUE(WaitFor(pid, [&] { return ChildRuns(pid, needle); }, &status, &ended))
        << "sim ended before it ran " << needle << ": " << ReadFile(err);
    if (sig == SIGINT)
      kill(-pid, SIGINT);
    else
      kill(pid, SIGTERM);
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    const std::string text = ReadFile(err);
    ASSERT_TRUE(WIFSIGNALED(status)) << "status " << status << ": " << text;
    EXPECT_EQ(WTERMSIG(status), sig);
    EXPECT_EQ(text.find("Traceback"), std::string::npos) << text;
    EXPECT_EQ(text.find("failed"), std::string::npos) << text;
    EXPECT_TRUE(fs::exists(out + "/summary.json"));  // the results stay
    // No script left running in sim's process group.
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    EXPECT_NE(kill(-pid, 0), 0) << "a process of sim's group still runs";
  }
  fs::remove_all(base);
}


// The kernel's name for where `pid` sleeps ("" if unreadable).
std::string Wchan(pid_t pid) {
  return ReadFile("/proc/" + std::to_string(pid) + "/wchan");
}

// A --trace path that is a FIFO nobody reads: sim waits in its open(),
// and SIGINT or SIGTERM still ends it (exit status 130 / 143) and removes
// the --out folder it made. (sim once held the stop signals back across
// that open: it waited on and only kill -9 ended it, leaving the folder.)
TEST(CliInterrupt, WhileOpeningAFifoTraceEndsBySignal) {
  const std::string base = TempPath("fifo_trace");
  fs::remove_all(base);
  fs::create_directories(base);
  const std::string file = base + "/small.yaml", err = base + "/err.txt";
  const std::string fifo = base + "/trace.fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  std::ofstream(file) << BigTimelineScenario(20);
  for (const int sig : {SIGINT, SIGTERM}) {
    const std::string out = base + "/out" + std::to_string(sig) + "/deeper";
    const pid_t pid = StartSim({"run", file, "--quiet", "--out", out, "--trace", fifo}, err);
    int status = 0;
    bool ended = false;
    ASSERT_TRUE(WaitFor(pid, [&] { return fs::exists(out); }, &status, &ended)) << ReadFile(err);
    // Then into the open(): seen in /proc where the kernel says so, else
    // given a second (without a reader the open cannot return).
    auto in_open = [&] {
      const std::string w = Wchan(pid);
      return w == "wait_for_partner" || w.find("fifo") != std::string::npos;
    };
    for (int i = 0; i < 100 && !in_open(); ++i) usleep(10'000);
    kill(pid, sig);
    bool gone = false;
    for (int i = 0; i < 1000 && !gone; ++i) {  // 10 s
      gone = waitpid(pid, &status, WNOHANG) == pid;
      if (!gone) usleep(10'000);
    }
    if (!gone) {
      kill(pid, SIGKILL);
      ASSERT_EQ(waitpid(pid, &status, 0), pid);
      fs::remove_all(base);
      FAIL() << "signal " << sig << " did not end sim waiting to open the FIFO trace";
    }
    ASSERT_TRUE(WIFSIGNALED(status)) << "status " << status << ": " << ReadFile(err);
    EXPECT_EQ(WTERMSIG(status), sig);
    EXPECT_FALSE(fs::exists(base + "/out" + std::to_string(sig))) << "signal " << sig;
    EXPECT_TRUE(fs::exists(fifo));  // not this run's
  }
  fs::remove_all(base);
}

}  // namespace
