// Bitfield: a fixed-size set of piece indices, one bit per piece.
//
// The wire form (BEP 3) packs bit i into byte i/8 at mask 0x80 >> (i%8), with
// spare bits in the last byte zero. FromWire validates exactly that, so a
// remote peer's malformed bitfield is detected rather than trusted.
//
// Up to kInlineBits bits are kept inside the object, more on the heap. A
// Connection holds its neighbour's bitfield, and a simulated swarm reads it
// on every Have and every block arrival with the connection's own lines just
// fetched: inline, the bits share those lines instead of being one more cold
// line behind a pointer (a 400-piece torrent: 7 words).
//
// Thread-compatible value type.
#ifndef SWARM_CORE_BITFIELD_H_
#define SWARM_CORE_BITFIELD_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "core/check.h"

namespace swarm::core {

class Bitfield {
 public:
  static constexpr size_t kInlineWords = 8;
  static constexpr size_t kInlineBits = kInlineWords * 64;

  Bitfield() = default;
  // REQUIRES: size < 2^32.
  explicit Bitfield(size_t size, bool value = false);
  Bitfield(const Bitfield& o);
  Bitfield& operator=(const Bitfield& o);
  Bitfield(Bitfield&& o) noexcept;
  Bitfield& operator=(Bitfield&& o) noexcept;

  // Parses the BEP 3 wire form for `size` bits. Returns nullopt if the byte
  // count is wrong or a spare bit is set.
  static std::optional<Bitfield> FromWire(std::span<const uint8_t> bytes,
                                          size_t size);
  // Test helper: '1'/'*' set, anything else clear. "1 1" -> {0, 2}.
  static Bitfield FromString(std::string_view s);

  size_t size() const { return size_; }
  bool Test(size_t i) const {
    SWARM_CHECK(i < size_);
    return (data()[i / 64] >> (i % 64)) & 1;
  }
  void Set(size_t i);
  void Clear(size_t i);
  size_t Count() const { return count_; }
  bool All() const { return count_ == size_; }
  bool None() const { return count_ == 0; }

  // Number of bits set here and clear in `other`. REQUIRES: same size.
  size_t CountNotIn(const Bitfield& other) const;
  // 64 bits per word, bit i in word i/64 at position i%64; spare bits zero.
  std::span<const uint64_t> words() const { return {data(), WordCount()}; }

  std::vector<uint8_t> ToWire() const;
  std::string ToString() const;  // '1' and '0' per bit

  bool operator==(const Bitfield& o) const;

 private:
  size_t WordCount() const { return (size_t{size_} + 63) / 64; }
  const uint64_t* data() const { return heap_ ? heap_.get() : inline_; }
  uint64_t* data() { return heap_ ? heap_.get() : inline_; }
  // Allocates heap_ when `size` needs more than the inline words; every
  // word zero.
  void Reset(size_t size);

  uint32_t size_ = 0;
  uint32_t count_ = 0;
  std::unique_ptr<uint64_t[]> heap_;  // null while the bits fit inline_
  uint64_t inline_[kInlineWords] = {};
};

}  // namespace swarm::core

#endif  // SWARM_CORE_BITFIELD_H_
