// PeerConfig: every tunable of a core::Peer, with its default and why.
// Parsed once (from a scenario or command-line flags) and validated with
// Validate(); the Peer never changes it.
#ifndef SWARM_CORE_PEER_CONFIG_H_
#define SWARM_CORE_PEER_CONFIG_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/types.h"

namespace swarm::core {

enum class PieceSelection : uint8_t { kRarestFirst, kRandom, kSequential };
enum class ChokerKind : uint8_t {
  kTitForTat,        // BitTorrent's rate-based reciprocation (Cohen 2003)
  kStrictTitForTat,  // tit-for-tat plus a per-peer byte deficit limit
  kRoundRobin,
  kUnchokeAll,
  kPropShare,        // upload shared in proportion to what peers gave
  kBitTyrant,        // strategic: best download per upload spent
  kMainlineTitForTat,  // tit-for-tat whose regular slots must be earned (4.x)
};
// How a seed (which downloads nothing) picks whom to upload to.
//   fastest_upload  the peers we upload to fastest (BitTorrent 3.x, the
//                   behaviour the published results we validate against
//                   assume). Sticky: whoever got the seed first tends to
//                   keep it until done, which limits duplicate uploads.
//   round_robin     every rechoke, the next `unchoke_slots` interested peers,
//                   so every leecher gets an equal share of each seed (closer
//                   to BitTorrent 4.x's seed state, Legout et al. 2006, but
//                   without its 20-second hold: with a fast rechoke it
//                   spreads a seed over everyone and nobody finishes early).
enum class SeedChoke : uint8_t { kFastestUpload, kRoundRobin };

// Name <-> enum, using the scenario spelling ("rarest_first", ...).
std::optional<PieceSelection> ParsePieceSelection(std::string_view s);
std::optional<ChokerKind> ParseChokerKind(std::string_view s);
std::optional<SeedChoke> ParseSeedChoke(std::string_view s);
std::string_view Name(PieceSelection p);
std::string_view Name(ChokerKind c);
std::string_view Name(SeedChoke c);
// Every name the Parse function accepts, each once, in the order the enum
// declares its values: for messages that list the choices ("expected one
// of: ..."), so that a name added to the core is listed at once.
std::span<const std::string_view> PieceSelectionNames();
std::span<const std::string_view> ChokerKindNames();
std::span<const std::string_view> SeedChokeNames();

// The longest announce interval a peer accepts from a tracker (or is
// configured with). Trackers ask for 30 minutes to an hour; a much longer
// interval would let the tracker forget us (its peer timeout) and, near the
// top of the int64 range, overflow `now + interval`.
inline constexpr Duration kMaxAnnounceInterval = Duration::Seconds(24 * 3600);

struct PeerConfig {
  // Piece selection. Rarest-first keeps rare pieces alive (Legout et al.
  // 2006); the first `random_first_pieces` pieces are picked at random so a
  // newcomer quickly has something to trade (BitTorrent's "random first").
  PieceSelection piece_selection = PieceSelection::kRarestFirst;
  uint32_t random_first_pieces = 4;
  // End-game: once every missing block is requested, request the remaining
  // ones from every peer that has them and cancel duplicates on arrival.
  bool endgame = true;

  // Choking. `unchoke_slots` counts the optimistic slot too (BitTorrent's
  // default of 4 upload slots).
  ChokerKind choker = ChokerKind::kTitForTat;
  SeedChoke seed_choke = SeedChoke::kFastestUpload;
  uint32_t unchoke_slots = 4;
  Duration rechoke_interval = Duration::Seconds(10);
  Duration optimistic_interval = Duration::Seconds(30);
  // A free-rider never unchokes anyone and so uploads nothing.
  bool free_rider = false;
  // strict_tit_for_tat: a leecher stops sending to a peer once it has sent
  // that peer this many bytes more than it received from it (block-level
  // tit-for-tat, Bharambe et al. 2006). One 256 KiB piece lets a newcomer
  // start.
  Bytes strict_tft_allowance = 256 * 1024;
  // propshare: fraction of upload kept for the optimistic unchoke (Levin et
  // al. 2008 reserve a small share for newcomers; 10% is our choice).
  double propshare_reserve = 0.1;
  // bittyrant and propshare need our own upload capacity to divide; 0 means
  // unknown (bittyrant then behaves as tit_for_tat). Set by the driver from
  // the host's modelled or configured upload limit.
  Rate upload_capacity;

  // BEP 16 super-seeding: a seed hides its bitfield and reveals one piece at
  // a time to each peer, the next only once that piece was seen elsewhere.
  bool super_seeding = false;

  // Connections.
  uint32_t max_connections = 50;
  // Below this many connections, dial known candidates.
  uint32_t min_connections = 20;

  // Requests. 16 KiB blocks as in BEP 3; 5 requests in flight per
  // connection as in the original client.
  uint32_t block_size = 16 * 1024;
  uint32_t request_pipeline = 5;
  // Adaptive request pipeline, off (Duration::Zero()) by default. The fixed
  // pipeline caps a connection at request_pipeline x block_size per round
  // trip (plus one block's time), whatever the capacities: 5 x 16 KiB over
  // 50 ms is 13 Mbit/s. When this is positive, a connection keeps as many
  // requests in flight as its observed download rate (Connection::download,
  // the choker's 20-second meter) delivers in this long, within
  // [request_pipeline, max_queued_requests / 2] (and at most 65535), as
  // libtorrent sizes its queue (request_queue_time, 3 s there).
  // Recomputed at each block received, so
  // it grows as the rate does. Half our own max_queued_requests, so that a
  // neighbour with the same limit takes it even with requests we gave up at
  // a Choke still queued there; a neighbour with a lower limit does not
  // (sim check warns of such class pairs).
  // Off, the model and every result stay those of the fixed pipeline.
  Duration request_queue_time = Duration::Zero();
  // Largest block length we serve (BEP 3 clients drop above 128 KiB).
  uint32_t max_request_length = 128 * 1024;
  // More queued requests than this from one peer is abuse.
  uint32_t max_queued_requests = 256;
  // SendBlock actions outstanding per connection (see Action SendBlock).
  // propshare and bittyrant divide upload by weight instead: they keep this
  // many in flight for the whole peer and choose whom to serve next by
  // stride scheduling.
  uint32_t uploads_in_flight = 1;
  // A request unanswered this long is given back to the picker and the
  // peer is marked snubbed (excluded from regular unchoke).
  Duration request_timeout = Duration::Seconds(60);

  // Liveness: send a keep-alive after this much silence; drop a peer that
  // sent nothing for inactivity_timeout (BEP 3: two minutes of silence is
  // normal, so allow twice that).
  Duration keepalive_interval = Duration::Seconds(120);
  Duration inactivity_timeout = Duration::Seconds(240);
  // A connection on which neither side has been interested for this long
  // is idle (libtorrent's 10-minute timeout for connections "uninteresting
  // and uninterested"), and is dropped when its slot is wanted: we are at
  // max_connections (a newcomer would be refused), or candidates wait and
  // our connections and dials in progress number exactly min_connections
  // (ConnectMore would dial one in its place). Then the one idle longest goes, one per housekeeping round.
  // Keep-alives keep a connection from looking silent, so without this a
  // neighbour that only ever sends them would hold one of our
  // max_connections for good and a full seed would refuse everyone else;
  // but an idle neighbour may only be waiting for a piece to spread (a
  // super-seed's next reveal, a seed-starved swarm), so while nobody needs
  // the slot it stays, as in libtorrent. A super-seed's neighbour holding
  // the piece revealed to it last waits on the seed for the next, so the
  // seed never counts it idle. Counted from the connection's start or from
  // the moment the last side lost interest, so the handshake and bitfield
  // exchange are never cut short. Duration::Zero() turns it off.
  Duration idle_timeout = Duration::Seconds(600);
  // A neighbour we unchoke that stays interested but asks nothing of us
  // for this long (no Request since our Unchoke, its last Request or the
  // last block we sent it), and has never traded a block with us either
  // way on this connection, leaves its upload slot unused: libtorrent's
  // view that an unchoked peer that does not request is worth nothing to
  // us. It is then marked as ignoring our unchoke and (a) ranked after
  // every neighbour not so marked by the choker, so it loses its slot at
  // once to one that waits (kept while nobody else wants the slot), and
  // (b) counts as idle for freeing a connection slot: at
  // max_connections a newcomer replaces the connection marked longest
  // (instead of being refused), and housekeeping drops it when a slot is
  // wanted, as for idle_timeout. The mark goes when it sends a Request
  // while unchoked or a block we asked for. Without this, peers that say
  // Interested and never ask held a seed's upload slots (each new round
  // drew among them at random) and all of its connection slots.
  // Several round trips: an honest peer asks within one. A peer that has
  // traded blocks with us is exempt: an honest one may have nothing to ask
  // of us for a while (what it wants from us is on its way from others),
  // and marking such peers moved the shipped simulations by up to 10%.
  // Duration::Zero(), the default, turns it off: even with the exemption
  // an honest neighbour with nothing to ask of us just now is sometimes
  // marked, which moved 11 of the 19 shipped scenarios (flash crowd mean
  // -1.3 %, v5_bittyrant -9.7 %, v3_one_piece's makespan +11 %), so the
  // simulator's model stays the one checked against theory unless a
  // scenario asks for it. `swarm share` and `swarm get` turn it on (5 s).
  Duration unused_unchoke_timeout = Duration::Zero();
  // A block handed to the driver (SendBlock) whose bytes have not left
  // (no OnBlockSent) for this long, with no other block to the same
  // neighbour leaving meanwhile, means the neighbour reads nothing: its
  // connection is dropped (reason upload_stalled). Without this, one that
  // asks for a block and then reads nothing, sending a keep-alive now and
  // then, kept its connection and the upload in flight for as long as it
  // liked: it is never silent (inactivity_timeout), its pending block
  // keeps it from looking idle or unused, and nothing else times a write
  // out. Not a protocol violation (a very slow link looks the same), so
  // no strike and no ban: it may connect again. Checked by housekeeping,
  // so a stalled upload goes between this and this plus
  // housekeeping_interval after the driver got it. The clock includes the
  // time a block waits in the driver's own queue (the real driver's upload
  // limit), so choose it well above what that queue may hold (see
  // `swarm share`). Duration::Zero(), the default, turns it off: the
  // simulator's flows always finish, and the model checked against theory
  // stays as it was. `swarm share` and `swarm get` turn it on (60 s, more
  // under a low upload limit).
  Duration upload_stall_timeout = Duration::Zero();
  // Requests, snubbing, keep-alives and dialing are checked this often.
  Duration housekeeping_interval = Duration::Seconds(5);

  // Tracker. `announce_interval` applies until a tracker says otherwise;
  // what a tracker says is taken within [min_reannounce_interval,
  // kMaxAnnounceInterval] (AnnounceIntervalFrom), and so must be our own.
  uint32_t numwant = 50;
  Duration announce_interval = Duration::Seconds(1800);
  // If the tracker gave too few peers, ask again after this long. Also the
  // shortest announce interval we accept from a tracker: a broken or hostile
  // one answering 0 s or a microsecond would have us announce in a tight
  // loop (libtorrent keeps such a floor too, its min_announce_interval).
  Duration min_reannounce_interval = Duration::Seconds(60);

  // Dialing. A dial that fails (refused, unreachable, timed out, or closed
  // by the remote before its handshake, as a full peer does) puts the peer
  // back on the candidate list, to be tried again no sooner than
  // redial_backoff times its failures so far after the last try; after
  // dial_attempts failures in a row it is forgotten, and may be listed again
  // by the tracker. A dial we end ourselves at the handshake is retried only
  // if WorthRedial (core/action.h): a protocol violator, ourselves, a banned
  // peer or a duplicate is forgotten at once. libtorrent does the
  // same (min_reconnect_time 60 s, max_failcount 3). 1 forgets a peer at its
  // first failed dial, as this model did until 2026-11-27.
  uint32_t dial_attempts = 3;
  Duration redial_backoff = Duration::Seconds(60);

  // A peer that alone supplied this many pieces that failed verification is
  // banned (pieces mixed from several peers are re-fetched on parole first).
  uint32_t ban_strikes = 1;

  // Returns an error message naming the bad field, or nullopt.
  std::optional<std::string> Validate() const;

  // The announce interval to use when a tracker asks for `tracker_says`:
  // clamped to [min_reannounce_interval, kMaxAnnounceInterval]. The core,
  // not a driver, applies it, so simulated and real peers obey the same
  // rule. REQUIRES: Validate() is nullopt.
  Duration AnnounceIntervalFrom(Duration tracker_says) const;
};

}  // namespace swarm::core

#endif  // SWARM_CORE_PEER_CONFIG_H_
