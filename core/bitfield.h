// Bitfield: a fixed-size set of piece indices, one bit per piece.
//
// The wire form (BEP 3) packs bit i into byte i/8 at mask 0x80 >> (i%8), with
// spare bits in the last byte zero. FromWire validates exactly that, so a
// remote peer's malformed bitfield is detected rather than trusted.
//
// Thread-compatible value type.
#ifndef SWARM_CORE_BITFIELD_H_
#define SWARM_CORE_BITFIELD_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "core/check.h"

namespace swarm::core {

class Bitfield {
 public:
  Bitfield() = default;
  explicit Bitfield(size_t size, bool value = false);

  // Parses the BEP 3 wire form for `size` bits. Returns nullopt if the byte
  // count is wrong or a spare bit is set.
  static std::optional<Bitfield> FromWire(std::span<const uint8_t> bytes,
                                          size_t size);
  // Test helper: '1'/'*' set, anything else clear. "1 1" -> {0, 2}.
  static Bitfield FromString(std::string_view s);

  size_t size() const { return size_; }
  bool Test(size_t i) const {
    SWARM_CHECK(i < size_);
    return (words_[i / 64] >> (i % 64)) & 1;
  }
  void Set(size_t i);
  void Clear(size_t i);
  size_t Count() const { return count_; }
  bool All() const { return count_ == size_; }
  bool None() const { return count_ == 0; }

  // Number of bits set here and clear in `other`. REQUIRES: same size.
  size_t CountNotIn(const Bitfield& other) const;
  // 64 bits per word, bit i in word i/64 at position i%64; spare bits zero.
  const std::vector<uint64_t>& words() const { return words_; }

  std::vector<uint8_t> ToWire() const;
  std::string ToString() const;  // '1' and '0' per bit

  bool operator==(const Bitfield& o) const {
    return size_ == o.size_ && words_ == o.words_;
  }

 private:
  size_t size_ = 0;
  size_t count_ = 0;
  std::vector<uint64_t> words_;
};

}  // namespace swarm::core

#endif  // SWARM_CORE_BITFIELD_H_
