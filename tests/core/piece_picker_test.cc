// PiecePicker with swarm state built from short strings, libtorrent-style:
// availability "2103" (copies of each piece among neighbours), have "* * "
// (pieces we hold), remote "****" (what the peer we ask holds).
#include "core/piece_picker.h"

#include <map>

#include <gtest/gtest.h>

namespace swarm::core {
namespace {

constexpr uint32_t kBlock = 16384;

class PickerTest : public ::testing::Test {
 protected:
  // One block per piece unless `blocks_per_piece` says otherwise.
  void Build(const std::string& availability, const std::string& have,
             PieceSelection policy = PieceSelection::kRarestFirst,
             uint32_t blocks_per_piece = 1, uint32_t random_first = 0) {
    torrent_ = TorrentInfo::Synthetic("x", Bytes(availability.size()) * blocks_per_piece * kBlock,
                                      Bytes(blocks_per_piece) * kBlock);
    config_.piece_selection = policy;
    config_.random_first_pieces = random_first;
    picker_ = std::make_unique<PiecePicker>(torrent_, config_);
    picker_->SetHave(Bitfield::FromString(have));
    for (size_t p = 0; p < availability.size(); ++p) {
      for (int k = 0; k < availability[p] - '0'; ++k) picker_->AddHave(PieceIndex(p));
    }
  }
  Time now_;  // when a pick takes a parole piece (its owner's patience)
  std::vector<BlockRef> Pick(const std::string& remote, size_t n, PeerId who = PeerId(1)) {
    std::vector<BlockRef> out;
    picker_->Pick(now_, Bitfield::FromString(remote), who, n, rng_,
                  [](const BlockRef&) { return false; }, out);
    return out;
  }
  // After Build("22", "  ", kSequential, 2): peers 1 and 2 each deliver
  // one block of piece 0, which then fails its check (on parole, no owner).
  void FailMixedPiece() {
    auto a = Pick("*.", 1, PeerId(1));
    auto b = Pick("*.", 1, PeerId(2));
    picker_->OnBlockReceived(a[0]);
    picker_->OnBlockReceived(b[0]);
    picker_->OnPieceVerified(PieceIndex(0), false);
  }
  // Indices within their piece of `blocks`, in the order given.
  static std::vector<uint32_t> Indices(const std::vector<BlockRef>& blocks) {
    std::vector<uint32_t> out;
    for (const auto& b : blocks) out.push_back(b.offset / kBlock);
    return out;
  }
  BlockRef B(uint32_t piece, uint32_t i) const { return picker_->Block(PieceIndex(piece), i); }
  static std::vector<uint32_t> Pieces(const std::vector<BlockRef>& blocks) {
    std::vector<uint32_t> out;
    for (const auto& b : blocks) out.push_back(b.piece.value());
    return out;
  }

  TorrentInfo torrent_;
  PeerConfig config_;
  std::unique_ptr<PiecePicker> picker_;
  Rng rng_{5};
};

TEST_F(PickerTest, HasUnrequestedBlockForFollowsWhatPickWouldFind) {
  Build("11", "  ", PieceSelection::kRarestFirst, /*blocks_per_piece=*/2);
  const Bitfield first = Bitfield::FromString("* ");
  EXPECT_TRUE(picker_->HasUnrequestedBlockFor(first, PeerId(1)));  // a new piece
  auto got = Pick("* ", 2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_FALSE(picker_->HasUnrequestedBlockFor(first, PeerId(1)));  // all requested
  EXPECT_TRUE(picker_->HasUnrequestedBlockFor(Bitfield::FromString("**"), PeerId(1)));
  picker_->AbortRequest(got[1]);  // a started piece with a block free again
  EXPECT_TRUE(picker_->HasUnrequestedBlockFor(first, PeerId(2)));
  picker_->OnBlockReceived(got[0]);
  picker_->OnBlockReceived(got[1]);
  EXPECT_FALSE(picker_->HasUnrequestedBlockFor(first, PeerId(1)));  // awaiting its check
}

TEST_F(PickerTest, RarestFirstTakesTheRarestPieceThePeerHas) {
  Build("2223133", "       ");
  EXPECT_EQ(Pieces(Pick("*******", 1)), std::vector<uint32_t>{4});
  // The peer lacks piece 4: the next rarest it has are 0, 1, 2.
  auto next = Pieces(Pick("****.**", 1));
  ASSERT_EQ(next.size(), 1u);
  EXPECT_LE(next[0], 2u);
}

TEST_F(PickerTest, RarestFirstBreaksTiesAtRandom) {
  std::map<uint32_t, int> seen;
  for (uint64_t seed = 0; seed < 60; ++seed) {
    Build("3111333", "       ");
    rng_ = Rng(seed);
    seen[Pieces(Pick("*******", 1)).at(0)]++;
  }
  EXPECT_EQ(seen.size(), 3u);  // pieces 1, 2, 3 only, all of them
  for (const auto& [piece, count] : seen) {
    EXPECT_GE(piece, 1u);
    EXPECT_LE(piece, 3u);
  }
}

TEST_F(PickerTest, NeverPicksWhatWeHaveOrThePeerLacks) {
  Build("1111", "* * ");
  auto got = Pieces(Pick("**. ", 4));
  EXPECT_EQ(got, std::vector<uint32_t>{1});
}

TEST_F(PickerTest, SequentialGoesInOrder) {
  Build("9199", "*   ", PieceSelection::kSequential);
  EXPECT_EQ(Pieces(Pick("****", 3)), (std::vector<uint32_t>{1, 2, 3}));
}

TEST_F(PickerTest, RandomFirstIgnoresRarityUntilEnoughPieces) {
  std::map<uint32_t, int> seen;
  for (uint64_t seed = 0; seed < 80; ++seed) {
    Build("5155", "    ", PieceSelection::kRarestFirst, 1, /*random_first=*/4);
    rng_ = Rng(seed);
    seen[Pieces(Pick("****", 1)).at(0)]++;
  }
  EXPECT_EQ(seen.size(), 4u);  // not only the rare piece 1
}

TEST_F(PickerTest, StartedPiecesComeFirst) {
  Build("1199", "    ", PieceSelection::kRarestFirst, /*blocks_per_piece=*/4);
  auto first = Pick("****", 2);  // starts a rare piece (0 or 1), two blocks
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0].piece, first[1].piece);
  // Another peer holding only the common pieces and that one gets the rest
  // of the started piece before anything new.
  std::string remote = "..**";
  remote[first[0].piece.value()] = '*';
  auto second = Pick(remote, 3, PeerId(2));
  ASSERT_EQ(second.size(), 3u);
  EXPECT_EQ(second[0].piece, first[0].piece);
  EXPECT_EQ(second[1].piece, first[0].piece);
  EXPECT_NE(second[2].piece, first[0].piece);
}

TEST_F(PickerTest, EndgameRequestsOutstandingBlocksAgain) {
  Build("11", "* ", PieceSelection::kRarestFirst, 2);
  auto a = Pick("**", 5);
  EXPECT_EQ(a.size(), 2u);  // both blocks of piece 1
  EXPECT_TRUE(picker_->InEndgame());
  auto b = Pick("**", 5, PeerId(2));
  EXPECT_EQ(b, a);  // duplicates, for the caller to cancel on arrival
  config_.endgame = false;
}

TEST_F(PickerTest, NoEndgameWhenDisabled) {
  config_.endgame = false;
  Build("11", "* ", PieceSelection::kRarestFirst, 2);
  Pick("**", 5);
  EXPECT_TRUE(Pick("**", 5, PeerId(2)).empty());
}

TEST_F(PickerTest, AbortedRequestsArePickedAgain) {
  Build("1", " ", PieceSelection::kRarestFirst, 2);
  auto a = Pick("*", 2);
  ASSERT_EQ(a.size(), 2u);
  picker_->AbortRequest(a[1]);
  EXPECT_FALSE(picker_->InEndgame());
  EXPECT_EQ(Pick("*", 1, PeerId(2)), std::vector<BlockRef>{a[1]});
}

// Each started piece counts its blocks neither received nor requested, so
// that a pick can skip a fully requested piece without reading its block
// states; the count follows requests, aborts, arrivals (also unrequested
// ones) and a failed check.
TEST_F(PickerTest, EachStartedPieceCountsItsUnrequestedBlocks) {
  Build("11", "  ", PieceSelection::kSequential, 3);
  auto a = Pick("* ", 2);  // piece 0: two of three blocks requested
  ASSERT_EQ(a.size(), 2u);
  EXPECT_TRUE(picker_->CheckCounts());
  picker_->AbortRequest(a[1]);
  EXPECT_TRUE(picker_->CheckCounts());
  picker_->OnBlockReceived(picker_->Block(PieceIndex(0), 2));  // never requested
  EXPECT_TRUE(picker_->CheckCounts());
  EXPECT_EQ(Pick("* ", 3), std::vector<BlockRef>{a[1]});  // the one free block
  EXPECT_TRUE(Pick("* ", 3).empty());  // piece 0 fully requested: skipped
  EXPECT_TRUE(picker_->CheckCounts());
  picker_->OnBlockReceived(a[0]);
  picker_->OnBlockReceived(a[1]);
  picker_->OnPieceVerified(PieceIndex(0), false);  // all three blocks again
  EXPECT_EQ(Pick("* ", 3).size(), 3u);
  EXPECT_TRUE(picker_->CheckCounts());
}

TEST_F(PickerTest, ReceiveCompleteVerify) {
  Build("1", " ", PieceSelection::kRarestFirst, 2);
  auto a = Pick("*", 2);
  EXPECT_EQ(picker_->OnBlockReceived(a[0]), PiecePicker::Receipt::kNew);
  EXPECT_EQ(picker_->OnBlockReceived(a[0]), PiecePicker::Receipt::kDuplicate);
  EXPECT_FALSE(picker_->IsComplete(PieceIndex(0)));
  picker_->OnBlockReceived(a[1]);
  EXPECT_TRUE(picker_->IsComplete(PieceIndex(0)));
  picker_->OnPieceVerified(PieceIndex(0), true);
  EXPECT_TRUE(picker_->have().Test(0));
  EXPECT_FALSE(picker_->InEndgame());  // nothing missing: no end-game
}

// Every block's state lives in one array indexed by piece and block: a
// piece's requests, arrivals and reset must not leak into its neighbours,
// including a short last piece.
TEST_F(PickerTest, BlockStatesAreKeptPerPieceAndClearedWhenAPieceEnds) {
  torrent_ = TorrentInfo::Synthetic("x", 7 * Bytes(kBlock), 3 * Bytes(kBlock));  // 3+3+1
  config_.piece_selection = PieceSelection::kSequential;
  config_.random_first_pieces = 0;
  picker_ = std::make_unique<PiecePicker>(torrent_, config_);
  picker_->SetHave(Bitfield::FromString("   "));
  auto all = Pick("***", 7);
  ASSERT_EQ(all.size(), 7u);
  EXPECT_EQ(all.back(), (BlockRef{PieceIndex(2), 0, kBlock}));
  EXPECT_TRUE(picker_->InEndgame());
  picker_->OnBlockReceived(all[0]);  // (0,0)
  picker_->AbortRequest(all[1]);     // (0,1) free again
  for (int i : {3, 4, 5, 6}) picker_->OnBlockReceived(all[i]);  // pieces 1 and 2
  EXPECT_FALSE(picker_->InEndgame());
  EXPECT_EQ(picker_->DebugString(),
            "have 0/3, unrequested blocks 1\n  piece 0 R.1\n  piece 1 RRR\n  piece 2 R\n");
  EXPECT_TRUE(picker_->IsComplete(PieceIndex(1)));
  EXPECT_TRUE(picker_->IsComplete(PieceIndex(2)));
  EXPECT_FALSE(picker_->IsComplete(PieceIndex(0)));
  picker_->OnPieceVerified(PieceIndex(1), false);  // reset: nothing received, nothing asked
  picker_->OnPieceVerified(PieceIndex(2), true);
  for (uint32_t i = 0; i < 3; ++i) {
    const BlockRef b = picker_->Block(PieceIndex(1), i);
    EXPECT_TRUE(picker_->NeedsBlock(b));
    EXPECT_FALSE(picker_->IsOutstanding(b));
  }
  EXPECT_FALSE(picker_->NeedsBlock(all[6]));
  EXPECT_FALSE(picker_->IsOutstanding(all[6]));
  EXPECT_TRUE(picker_->IsOutstanding(all[2]));  // (0,2) untouched by its neighbours
  EXPECT_EQ(picker_->OnBlockReceived(all[6]), PiecePicker::Receipt::kDuplicate);
  // Piece 0's free block first, then piece 1 again from scratch.
  auto again = Pick("***", 4);
  ASSERT_EQ(again.size(), 4u);
  EXPECT_EQ(again[0], all[1]);
  for (uint32_t i = 0; i < 3; ++i) EXPECT_EQ(again[i + 1], picker_->Block(PieceIndex(1), i));
}

TEST_F(PickerTest, FailedPieceGoesOnParoleWithOneOwner) {
  Build("22", "  ", PieceSelection::kSequential, 2);
  FailMixedPiece();
  EXPECT_TRUE(picker_->OnParole(PieceIndex(0)));
  EXPECT_FALSE(picker_->have().Test(0));
  auto first = Pick("*.", 1, PeerId(1));  // peer 1 takes the parole piece
  ASSERT_EQ(first.size(), 1u);
  EXPECT_TRUE(Pick("*.", 2, PeerId(2)).empty());  // peer 2 may not join in
  // The idle-connection check agrees: nothing for peer 2, more for peer 1.
  EXPECT_FALSE(picker_->HasUnrequestedBlockFor(Bitfield::FromString("*."), PeerId(2)));
  EXPECT_TRUE(picker_->HasUnrequestedBlockFor(Bitfield::FromString("*."), PeerId(1)));
  EXPECT_EQ(Pick("*.", 1, PeerId(1)).size(), 1u);  // the owner finishes it
}

TEST_F(PickerTest, ForgottenOwnerHandsTheParolePieceOn) {
  Build("22", "  ", PieceSelection::kSequential, 3);
  auto a = Pick("*.", 2, PeerId(1));
  auto b = Pick("*.", 1, PeerId(2));
  for (const auto& blk : a) picker_->OnBlockReceived(blk);
  picker_->OnBlockReceived(b[0]);
  picker_->OnPieceVerified(PieceIndex(0), false);
  // Peer 1 takes the parole piece, and everything it was asked for arrives.
  auto owned = Pick("*.", 1, PeerId(1));
  ASSERT_EQ(owned.size(), 1u);
  picker_->OnBlockReceived(owned[0]);
  EXPECT_TRUE(Pick("*.", 2, PeerId(2)).empty());  // still peer 1's
  picker_->ForgetOwner(PeerId(3));                // someone else: no change
  EXPECT_TRUE(Pick("*.", 2, PeerId(2)).empty());
  picker_->ForgetOwner(PeerId(1));
  EXPECT_TRUE(picker_->TakeDiscards().empty());
  // Peer 2 takes it over and starts again: peer 1's block is thrown away.
  EXPECT_EQ(Pick("*.", 2, PeerId(2)),
            (std::vector<BlockRef>{picker_->Block(PieceIndex(0), 0),
                                   picker_->Block(PieceIndex(0), 1)}));
  auto discards = picker_->TakeDiscards();
  ASSERT_EQ(discards.size(), 1u);
  EXPECT_EQ(discards[0].piece, PieceIndex(0));
  EXPECT_EQ(discards[0].bytes, picker_->Block(PieceIndex(0), 0).length);
  EXPECT_TRUE(picker_->TakeDiscards().empty());
  EXPECT_TRUE(picker_->CheckCounts());
  EXPECT_TRUE(Pick("*.", 1, PeerId(1)).empty());  // and it is now peer 2's
}

// An owner that sends us nothing loses its parole piece after a patience
// that doubles with each takeover of the piece: owners that each wait
// longer for their next unchoke round than the patience would otherwise
// pass the piece round for ever, each discarding the last one's part
// (random swarm 1175 --extended, 1 MiB pieces under round-robin rounds
// minutes apart). The doubling saturates instead of overflowing.
TEST_F(PickerTest, ASilentParoleOwnersPatienceDoublesWithEachTakeover) {
  Build("22", "  ", PieceSelection::kSequential, 2);
  FailMixedPiece();
  const Duration base = Duration::Seconds(2);
  // Silent for s seconds: its last block long ago, the piece taken at now_.
  const Time long_ago = now_;
  auto silent = [&](PeerId who, int64_t s) {
    return picker_->ReleaseSilentOwner(who, long_ago, now_ + Duration::Seconds(s), base);
  };
  now_ = now_ + Duration::Seconds(100);
  picker_->OnBlockReceived(Pick("*.", 1, PeerId(1))[0]);
  EXPECT_TRUE(picker_->HoldsParole(PeerId(1)));
  EXPECT_FALSE(picker_->HoldsParole(PeerId(2)));
  EXPECT_FALSE(silent(PeerId(1), 1));  // counted from the take, not the old block
  EXPECT_FALSE(silent(PeerId(2), 9));
  EXPECT_FALSE(picker_->ReleaseSilentOwner(PeerId(1), now_ + Duration::Seconds(1),
                                           now_ + Duration::Seconds(2), base));  // a block since
  EXPECT_TRUE(silent(PeerId(1), 2));
  EXPECT_FALSE(picker_->HoldsParole(PeerId(1)));
  picker_->OnBlockReceived(Pick("*.", 1, PeerId(2))[0]);  // takeover 1
  EXPECT_FALSE(silent(PeerId(2), 3));
  EXPECT_TRUE(silent(PeerId(2), 4));
  picker_->OnBlockReceived(Pick("*.", 1, PeerId(1))[0]);  // takeover 2
  EXPECT_FALSE(silent(PeerId(1), 7));
  EXPECT_TRUE(silent(PeerId(1), 8));
  EXPECT_EQ(picker_->TakeDiscards().size(), 2u);
  // A late block from the released owner still joins: nobody took over.
  EXPECT_TRUE(picker_->AcceptsLateFrom(PieceIndex(0), PeerId(1)));
  EXPECT_FALSE(picker_->AcceptsLateFrom(PieceIndex(0), PeerId(2)));
  // Hundreds of takeovers later the patience is past any silence, and
  // comparing it does not overflow.
  for (int i = 0; i < 300; ++i) {
    const PeerId who(i % 2 ? 1 : 2);
    picker_->OnBlockReceived(Pick("*.", 1, who)[0]);
    ASSERT_TRUE(picker_->ForgetOwner(who));
  }
  picker_->OnBlockReceived(Pick("*.", 1, PeerId(1))[0]);
  const Time much_later = now_ + Duration::Seconds(int64_t{1} << 40);  // 35,000 years
  EXPECT_FALSE(picker_->ReleaseSilentOwner(PeerId(1), long_ago, much_later, base));
  EXPECT_FALSE(picker_->ReleaseSilentOwner(PeerId(1), long_ago, much_later,
                                           Duration::Seconds(int64_t{1} << 40)));
  EXPECT_TRUE(picker_->CheckCounts()) << picker_->DebugString();
  EXPECT_TRUE(picker_->CheckCounts()) << picker_->DebugString();
}

// An owner that comes back for a parole piece nobody took over meanwhile
// keeps what it delivered: the attempt is still single-source. A piece
// complete and awaiting its check is not discarded by a takeover.
TEST_F(PickerTest, ParoleOwnerComingBackKeepsItsBlocks) {
  Build("22", "  ", PieceSelection::kSequential, 2);
  FailMixedPiece();
  auto owned = Pick("*.", 1, PeerId(1));
  ASSERT_EQ(owned.size(), 1u);
  picker_->OnBlockReceived(owned[0]);
  picker_->ForgetOwner(PeerId(1));  // it snubbed us, say, and comes back
  EXPECT_EQ(Pick("*.", 2, PeerId(1)),
            std::vector<BlockRef>{picker_->Block(PieceIndex(0), 1)});
  EXPECT_TRUE(picker_->TakeDiscards().empty());
  picker_->OnBlockReceived(picker_->Block(PieceIndex(0), 1));
  ASSERT_TRUE(picker_->IsComplete(PieceIndex(0)));
  picker_->ForgetOwner(PeerId(1));
  EXPECT_TRUE(Pick("*.", 2, PeerId(2)).empty());
  EXPECT_TRUE(picker_->TakeDiscards().empty());
  EXPECT_TRUE(picker_->IsComplete(PieceIndex(0)));
}

// A late block (nobody has it outstanding from its sender) may join any
// piece but a parole piece, which takes blocks from its owner only.
TEST_F(PickerTest, LateBlocksJoinAParolePieceFromItsOwnerOnly) {
  Build("22", "  ", PieceSelection::kSequential, 2);
  EXPECT_TRUE(picker_->AcceptsLateFrom(PieceIndex(0), PeerId(1)));  // not on parole
  FailMixedPiece();
  EXPECT_FALSE(picker_->AcceptsLateFrom(PieceIndex(0), PeerId(1)));  // nobody owns it yet
  ASSERT_EQ(Pick("*.", 1, PeerId(2)).size(), 1u);                    // peer 2 takes it
  EXPECT_TRUE(picker_->AcceptsLateFrom(PieceIndex(0), PeerId(2)));
  EXPECT_FALSE(picker_->AcceptsLateFrom(PieceIndex(0), PeerId(1)));
  EXPECT_TRUE(picker_->AcceptsLateFrom(PieceIndex(1), PeerId(1)));  // other pieces: anyone
}

// A pick resumes where the last one stopped (the piece's cursor); blocks
// given back below it must still come first, lowest first, as a scan from
// block 0 would take them.
TEST_F(PickerTest, BlocksGivenBackBelowTheCursorAreTakenNextLowestFirst) {
  Build("1", " ", PieceSelection::kSequential, 8);
  EXPECT_EQ(Indices(Pick("*", 4)), (std::vector<uint32_t>{0, 1, 2, 3}));
  picker_->AbortRequest(B(0, 2));  // a choke gives requests back in any order
  picker_->AbortRequest(B(0, 0));
  EXPECT_TRUE(picker_->CheckCounts()) << picker_->DebugString();
  EXPECT_EQ(Indices(Pick("*", 3)), (std::vector<uint32_t>{0, 2, 4}));
  picker_->AbortRequest(B(0, 3));  // a timeout, after the cursor moved on
  EXPECT_EQ(Indices(Pick("*", 2)), (std::vector<uint32_t>{3, 5}));
  EXPECT_EQ(Indices(Pick("*", 2)), (std::vector<uint32_t>{6, 7}));
  EXPECT_TRUE(picker_->CheckCounts()) << picker_->DebugString();
}

TEST_F(PickerTest, ABlockGivenBackThenAnsweredLateIsNotTakenAgain) {
  Build("1", " ", PieceSelection::kSequential, 8);
  ASSERT_EQ(Pick("*", 4).size(), 4u);
  picker_->AbortRequest(B(0, 1));
  picker_->AbortRequest(B(0, 3));
  EXPECT_EQ(picker_->OnBlockReceived(B(0, 1)), PiecePicker::Receipt::kNew);  // the late answer
  EXPECT_TRUE(picker_->CheckCounts()) << picker_->DebugString();
  EXPECT_EQ(Indices(Pick("*", 2)), (std::vector<uint32_t>{3, 4}));
  EXPECT_TRUE(picker_->CheckCounts()) << picker_->DebugString();
}

TEST_F(PickerTest, AnEndgameDuplicateGivenBackByBothPeersIsTakenAgain) {
  Build("1", " ", PieceSelection::kSequential, 4);
  ASSERT_EQ(Pick("*", 4, PeerId(1)).size(), 4u);
  EXPECT_EQ(Indices(Pick("*", 2, PeerId(2))), (std::vector<uint32_t>{0, 1}));  // end-game
  picker_->OnBlockReceived(B(0, 0));  // from peer 1; peer 2's duplicate is cancelled
  picker_->AbortRequest(B(0, 0));
  picker_->AbortRequest(B(0, 1));  // peer 1 chokes us: peer 2 still has it
  EXPECT_TRUE(picker_->CheckCounts()) << picker_->DebugString();
  EXPECT_FALSE(picker_->HasUnrequestedBlockFor(Bitfield::FromString("*"), PeerId(3)));
  picker_->AbortRequest(B(0, 1));  // and peer 2 too
  EXPECT_TRUE(picker_->CheckCounts()) << picker_->DebugString();
  EXPECT_EQ(Indices(Pick("*", 1, PeerId(3))), (std::vector<uint32_t>{1}));
}

TEST_F(PickerTest, EndgameSkipsTheReceivedBlocksAndStartsOverAfterAFailure) {
  Build("1", " ", PieceSelection::kSequential, 8);
  ASSERT_EQ(Pick("*", 8, PeerId(1)).size(), 8u);
  for (uint32_t i : {0, 1, 3}) picker_->OnBlockReceived(B(0, i));
  EXPECT_EQ(Indices(Pick("*", 3, PeerId(2))), (std::vector<uint32_t>{2, 4, 5}));
  picker_->OnBlockReceived(B(0, 2));
  EXPECT_EQ(Indices(Pick("*", 2, PeerId(3))), (std::vector<uint32_t>{4, 5}));
  EXPECT_TRUE(picker_->CheckCounts()) << picker_->DebugString();
  for (uint32_t i : {4, 5, 6, 7}) picker_->OnBlockReceived(B(0, i));
  picker_->OnPieceVerified(PieceIndex(0), false);
  ASSERT_EQ(Pick("*", 8, PeerId(3)).size(), 8u);
  EXPECT_EQ(Indices(Pick("*", 1, PeerId(3))), (std::vector<uint32_t>{0}));  // end-game again
  EXPECT_TRUE(picker_->CheckCounts()) << picker_->DebugString();
}

TEST_F(PickerTest, AFailedPieceIsPickedFromItsFirstBlockAgain) {
  Build("1", " ", PieceSelection::kSequential, 4);
  for (const auto& b : Pick("*", 4)) picker_->OnBlockReceived(b);
  picker_->OnPieceVerified(PieceIndex(0), false);
  EXPECT_EQ(Indices(Pick("*", 2)), (std::vector<uint32_t>{0, 1}));
  EXPECT_TRUE(picker_->CheckCounts()) << picker_->DebugString();
}

TEST_F(PickerTest, AParolePieceTakenOverIsPickedFromItsFirstBlockAgain) {
  Build("2", " ", PieceSelection::kSequential, 4);
  for (const auto& b : Pick("*", 2, PeerId(1))) picker_->OnBlockReceived(b);
  for (const auto& b : Pick("*", 2, PeerId(2))) picker_->OnBlockReceived(b);
  picker_->OnPieceVerified(PieceIndex(0), false);  // mixed: on parole
  EXPECT_EQ(Indices(Pick("*", 3, PeerId(1))), (std::vector<uint32_t>{0, 1, 2}));
  picker_->OnBlockReceived(B(0, 0));
  picker_->OnBlockReceived(B(0, 1));
  picker_->AbortRequest(B(0, 3));  // not peer 1's: changes nothing
  EXPECT_TRUE(Pick("*", 4, PeerId(2)).empty());  // peer 1 still fetches block 2
  picker_->AbortRequest(B(0, 2));  // peer 1 chokes us: the piece stays its own
  EXPECT_TRUE(Pick("*", 4, PeerId(2)).empty());
  EXPECT_TRUE(picker_->ForgetOwner(PeerId(1)));  // it kept us choked too long
  EXPECT_EQ(Indices(Pick("*", 4, PeerId(2))), (std::vector<uint32_t>{0, 1, 2, 3}));
  auto discards = picker_->TakeDiscards();
  ASSERT_EQ(discards.size(), 1u);
  EXPECT_EQ(discards[0].bytes, 2 * kBlock);
  EXPECT_TRUE(picker_->CheckCounts()) << picker_->DebugString();
}

// Random picks, give-backs and arrivals (also late ones) on one piece: every
// pick takes the lowest blocks that are neither received nor requested,
// read from DebugString before it, whatever came before.
TEST_F(PickerTest, PicksTheLowestUnrequestedBlocksAfterAnyHistory) {
  constexpr uint32_t kBlocks = 64;
  config_.endgame = false;
  Build("1", " ", PieceSelection::kSequential, kBlocks);
  const uint64_t seed = 11;
  SCOPED_TRACE("seed " + std::to_string(seed));
  Rng ops(seed);
  std::vector<BlockRef> outstanding;
  auto unrequested = [&] {
    std::vector<uint32_t> free;
    const std::string debug = picker_->DebugString();
    const size_t at = debug.find("piece 0 ");
    for (uint32_t i = 0; i < kBlocks; ++i) {
      if (at == std::string::npos || debug[at + 8 + i] == '.') free.push_back(i);
    }
    return free;
  };
  for (int step = 0; step < 20000; ++step) {
    SCOPED_TRACE("step " + std::to_string(step));
    const uint64_t op = ops.Below(4);
    if (op == 0) {
      const size_t n = 1 + ops.Below(6);
      std::vector<uint32_t> want = unrequested();
      if (want.size() > n) want.resize(n);
      const auto got = Pick("*", n);
      ASSERT_EQ(Indices(got), want) << picker_->DebugString();
      outstanding.insert(outstanding.end(), got.begin(), got.end());
    } else if (!outstanding.empty() && op < 3) {
      const size_t k = ops.Below(outstanding.size());
      if (op == 1) {
        picker_->AbortRequest(outstanding[k]);  // choke, timeout, disconnect
      } else {
        picker_->OnBlockReceived(outstanding[k]);
      }
      outstanding.erase(outstanding.begin() + k);
    } else if (const auto free = unrequested();
               op == 3 && !free.empty() && picker_->AcceptsLateFrom(PieceIndex(0), PeerId(1))) {
      // The late answer to a request given up earlier (a peer keeps it only
      // if the picker accepts it: see AcceptsLateFrom).
      picker_->OnBlockReceived(B(0, free[ops.Below(free.size())]));
    }
    ASSERT_TRUE(picker_->CheckCounts()) << picker_->DebugString();
    if (picker_->IsComplete(PieceIndex(0))) picker_->OnPieceVerified(PieceIndex(0), false);
  }
}

TEST_F(PickerTest, AvailabilityFollowsPeers) {
  Build("00", "  ");
  picker_->AddPeer(Bitfield::FromString("*."));
  picker_->AddPeer(Bitfield::FromString("**"));
  EXPECT_EQ(picker_->availability(PieceIndex(0)), 2u);
  picker_->RemovePeer(Bitfield::FromString("**"));
  EXPECT_EQ(picker_->availability(PieceIndex(1)), 0u);
}

TEST_F(PickerTest, ValidBlocksOnly) {
  Build("1", " ", PieceSelection::kRarestFirst, 2);
  EXPECT_TRUE(picker_->IsValidBlock(BlockRef{PieceIndex(0), kBlock, kBlock}));
  EXPECT_FALSE(picker_->IsValidBlock(BlockRef{PieceIndex(0), 1, kBlock}));
  EXPECT_FALSE(picker_->IsValidBlock(BlockRef{PieceIndex(0), 0, 100}));
  EXPECT_FALSE(picker_->IsValidBlock(BlockRef{PieceIndex(1), 0, kBlock}));
}

}  // namespace
}  // namespace swarm::core
