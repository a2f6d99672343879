// Shared plumbing of the `swarm` subcommands: logging with a progress line
// that log lines do not tear, synchronous signal handling, tracker retries,
// and turning the user's flags into DriverOptions. Errors in user input are
// reported here with the flag's name (exit code 2 by convention).
#ifndef SWARM_NET_CLI_CONSOLE_H_
#define SWARM_NET_CLI_CONSOLE_H_

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "net-real/cli/commands.h"
#include "net-real/peer_driver.h"
#include "net-real/peer_transport.h"

namespace swarm::net::cli {

// stderr: "swarm: LEVEL: msg", clearing a progress line first.
void Log(LogLevel level, const std::string& msg);
// Redraws the one-line progress display (only if stderr is a terminal),
// cut to the terminal's width: a longer line would wrap, and the next
// redraw, which clears only the cursor's row, would leave its first part.
void ShowProgress(const std::string& line);
// `line` cut to fit a terminal `columns` wide, leaving the last column
// free (the cursor stays on the row); counts UTF-8 characters, not bytes.
std::string FitToWidth(const std::string& line, int columns);
// The width of the terminal on stderr; 80 if it is not one, or says 0.
int TerminalWidth();
void ClearProgress();
// A line for scripts and tests, on stdout, flushed.
void Print(const std::string& line);
// Logs `msg` as an error and returns 2.
int UserError(const std::string& msg);
// Sets the log level from "error|warn|info|debug"; false if unknown.
bool ParseLevel(const std::string& s);
// True if messages of `level` are shown.
bool Logs(LogLevel level);

// protobuf logs a line of its own for each message it cannot parse, e.g.
// one whose `string` field is not UTF-8: any client could fill a tracker's
// log with them, and our own code already reports the refused message.
// Sends protobuf's lines through Log at debug level instead (fatal ones as
// errors). Call once, before any thread starts. False with a protobuf
// (22 or later) that has no log handler to set: its lines stay its own.
bool RouteProtobufLogs();

// Blocks the stop signals, SIGINT, SIGTERM and SIGHUP (a closed terminal;
// not when SIGHUP was ignored at the start, as under nohup), in every
// thread (call before starting any), so WaitForSignal can take them
// synchronously: each subcommand stops on any of them as on Ctrl-C.
void BlockSignals();
// True if a stop signal arrived within `timeout`.
bool WaitForSignal(std::chrono::milliseconds timeout);
// True if a stop signal is pending; it stays pending for WaitForSignal.
bool StopPending();

// Runs `attempt` until it succeeds or `retries` attempts failed, backing off
// 1, 2, 4, 5, 5... s with a warning each time; stops early on a signal, and
// gives up at once after a failure for which `hopeless` (if given) is true.
enum class RetryOutcome { kDone, kGaveUp, kInterrupted };
RetryOutcome WithRetries(int retries, const std::function<bool(std::string*)>& attempt,
                         const std::function<bool()>& hopeless = {});
// The exit code for a failed outcome: 1 gave up, 130 interrupted.
int ExitCodeOf(RetryOutcome outcome);

// The seed to use: `given`, or one drawn from the OS if 0.
uint64_t DrawSeed(uint64_t given);
// Fills `o` from the user's flags; returns a message naming the bad flag.
std::optional<std::string> MakeDriverOptions(const CommonOptions& c, DriverOptions* o);
// PeerConfig::upload_stall_timeout for share and get: the core counts a
// block's time from its SendBlock, so the time it waits in our own upload
// queue (the driver's, under --upload-limit) counts too. That queue holds
// the uploads in flight of every neighbour we unchoke, unchoke_slots x
// uploads_in_flight blocks of up to max_request_length (a neighbour's
// request, not our block_size), ahead of a newly served one: the timeout is
// kRealUploadStallTimeoutSeconds, or twice the time that queue takes to
// drain at `upload_limit` if longer (zero: no limit).
core::Duration UploadStallTimeout(const core::PeerConfig& peer, core::Rate upload_limit);
// The warning `get` logs when nothing has arrived for `quiet_s` seconds.
std::string NothingReceivedWarning(int quiet_s, size_t connections, uint32_t pieces,
                                   uint32_t piece_count, uint32_t unreachable_peers);
// "0.0.0.0:0" bound to port P -> ":P" (the tracker fills the host in).
std::string AdvertisedEndpoint(const std::string& listen, int port);
// "HOST:P" for the "listening on" line.
std::string PrintableAddress(const std::string& listen, int port);
std::string Percent(double x);
std::string Eta(double seconds);
// Gives closed streams a moment to finish before the process exits.
void WaitForLinks();

// Raises this process's soft limit on open files (RLIMIT_NOFILE) to its
// hard limit: every connection accepted costs one, and the common soft
// limit of 1024 lets a burst of connections from anyone reach it (the
// accept loop then sheds connections: net-real/accept_loop.h). Returns the
// limit now in force.
uint64_t RaiseOpenFileLimit();

}  // namespace swarm::net::cli

#endif  // SWARM_NET_CLI_CONSOLE_H_
