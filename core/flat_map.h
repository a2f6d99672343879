// FlatMap: an ordered map kept as a sorted vector. For the small maps on the
// hot path (a peer's partial pieces), iteration and lookup over contiguous
// memory beat std::map's scattered nodes. Insertion and erasure move
// elements, so references are invalidated by them (never by lookups).
//
// Thread-compatible.
#ifndef SWARM_CORE_FLAT_MAP_H_
#define SWARM_CORE_FLAT_MAP_H_

#include <algorithm>
#include <utility>
#include <vector>

namespace swarm::core {

template <typename K, typename V>
class FlatMap {
 public:
  using value_type = std::pair<K, V>;
  using iterator = typename std::vector<value_type>::iterator;
  using const_iterator = typename std::vector<value_type>::const_iterator;

  iterator begin() { return items_.begin(); }
  iterator end() { return items_.end(); }
  const_iterator begin() const { return items_.begin(); }
  const_iterator end() const { return items_.end(); }
  bool empty() const { return items_.empty(); }
  size_t size() const { return items_.size(); }

  iterator find(const K& k) {
    auto it = LowerBound(k);
    return it != items_.end() && it->first == k ? it : items_.end();
  }
  const_iterator find(const K& k) const {
    auto it = std::lower_bound(items_.begin(), items_.end(), k,
                               [](const value_type& e, const K& key) { return e.first < key; });
    return it != items_.end() && it->first == k ? it : items_.end();
  }
  size_t count(const K& k) const { return find(k) != items_.end() ? 1 : 0; }

  // Inserts a default V if absent. Returns the element and whether it is new.
  std::pair<iterator, bool> try_emplace(const K& k) {
    auto it = LowerBound(k);
    if (it != items_.end() && it->first == k) return {it, false};
    return {items_.insert(it, value_type(k, V())), true};
  }
  void erase(const K& k) {
    auto it = find(k);
    if (it != items_.end()) items_.erase(it);
  }

 private:
  iterator LowerBound(const K& k) {
    return std::lower_bound(items_.begin(), items_.end(), k,
                            [](const value_type& e, const K& key) { return e.first < key; });
  }
  std::vector<value_type> items_;
};

}  // namespace swarm::core

#endif  // SWARM_CORE_FLAT_MAP_H_
