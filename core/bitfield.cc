#include "core/bitfield.h"

#include <bit>
#include <string>

#include "core/check.h"

namespace swarm::core {

Bitfield::Bitfield(size_t size, bool value)
    : size_(size), count_(value ? size : 0), words_((size + 63) / 64, 0) {
  if (value) {
    for (size_t i = 0; i < size; ++i) words_[i / 64] |= uint64_t{1} << (i % 64);
  }
}

std::optional<Bitfield> Bitfield::FromWire(std::span<const uint8_t> bytes,
                                           size_t size) {
  if (bytes.size() != (size + 7) / 8) return std::nullopt;
  Bitfield b(size);
  for (size_t byte = 0; byte < bytes.size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      if (!(bytes[byte] & (0x80 >> bit))) continue;
      const size_t i = byte * 8 + bit;
      if (i >= size) return std::nullopt;  // spare bits must be zero
      b.Set(i);
    }
  }
  return b;
}

Bitfield Bitfield::FromString(std::string_view s) {
  Bitfield b(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '1' || s[i] == '*') b.Set(i);
  }
  return b;
}

size_t Bitfield::CountNotIn(const Bitfield& other) const {
  SWARM_CHECK(size_ == other.size_);
  size_t n = 0;
  for (size_t w = 0; w < words_.size(); ++w) {
    n += static_cast<size_t>(std::popcount(words_[w] & ~other.words_[w]));
  }
  return n;
}

void Bitfield::Set(size_t i) {
  SWARM_CHECK(i < size_);
  uint64_t& w = words_[i / 64];
  const uint64_t mask = uint64_t{1} << (i % 64);
  if (!(w & mask)) {
    w |= mask;
    ++count_;
  }
}

void Bitfield::Clear(size_t i) {
  SWARM_CHECK(i < size_);
  uint64_t& w = words_[i / 64];
  const uint64_t mask = uint64_t{1} << (i % 64);
  if (w & mask) {
    w &= ~mask;
    --count_;
  }
}

std::vector<uint8_t> Bitfield::ToWire() const {
  std::vector<uint8_t> out((size_ + 7) / 8, 0);
  for (size_t i = 0; i < size_; ++i) {
    if (Test(i)) out[i / 8] |= static_cast<uint8_t>(0x80 >> (i % 8));
  }
  return out;
}

std::string Bitfield::ToString() const {
  std::string s(size_, '0');
  for (size_t i = 0; i < size_; ++i) {
    if (Test(i)) s[i] = '1';
  }
  return s;
}

}  // namespace swarm::core
