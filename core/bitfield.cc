#include "core/bitfield.h"

#include <algorithm>
#include <bit>
#include <string>

#include "core/check.h"

namespace swarm::core {

Bitfield::Bitfield(size_t size, bool value) {
  Reset(size);
  if (value) {
    uint64_t* w = data();
    for (size_t i = 0; i < size; ++i) w[i / 64] |= uint64_t{1} << (i % 64);
    count_ = size_;
  }
}

void Bitfield::Reset(size_t size) {
  SWARM_CHECK(size <= UINT32_MAX);
  size_ = static_cast<uint32_t>(size);
  count_ = 0;
  std::fill(std::begin(inline_), std::end(inline_), 0);
  heap_.reset();
  if (WordCount() > kInlineWords) heap_ = std::make_unique<uint64_t[]>(WordCount());
}

Bitfield::Bitfield(const Bitfield& o) { *this = o; }

Bitfield& Bitfield::operator=(const Bitfield& o) {
  if (this == &o) return *this;
  Reset(o.size_);
  count_ = o.count_;
  std::copy_n(o.data(), WordCount(), data());
  return *this;
}

Bitfield::Bitfield(Bitfield&& o) noexcept { *this = std::move(o); }

Bitfield& Bitfield::operator=(Bitfield&& o) noexcept {
  if (this == &o) return *this;
  size_ = o.size_;
  count_ = o.count_;
  heap_ = std::move(o.heap_);
  std::copy(std::begin(o.inline_), std::end(o.inline_), std::begin(inline_));
  o.size_ = 0;
  o.count_ = 0;
  std::fill(std::begin(o.inline_), std::end(o.inline_), 0);
  return *this;
}

bool Bitfield::operator==(const Bitfield& o) const {
  if (size_ != o.size_) return false;
  return std::equal(data(), data() + WordCount(), o.data());
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
  const uint64_t* a = data();
  const uint64_t* b = other.data();
  for (size_t w = 0; w < WordCount(); ++w) {
    n += static_cast<size_t>(std::popcount(a[w] & ~b[w]));
  }
  return n;
}

void Bitfield::Set(size_t i) {
  SWARM_CHECK(i < size_);
  uint64_t& w = data()[i / 64];
  const uint64_t mask = uint64_t{1} << (i % 64);
  if (!(w & mask)) {
    w |= mask;
    ++count_;
  }
}

void Bitfield::Clear(size_t i) {
  SWARM_CHECK(i < size_);
  uint64_t& w = data()[i / 64];
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
