// A map by string key that remembers which entries changed since it was last told they were saved,
// so that a role's state is made durable by writing those entries, not the whole state (a service
// that rewrote its state per batch of datagrams spent time in proportion to every terminal it had
// seen, and a run of n registrations n^2; kd-live(7), DURABILITY).
//
// Every way to change an entry goes through a member that marks its key first, keeping the
// entry's value as it was at the last save: a value that went back to it is no change. Marking is
// conservative (a mutable find() marks what it finds); changes() compares, so it is exact.
// Entries and saved values are both kept in hash tables: a lookup costs a hash of the key, not a
// descent of a tree of string keys whose compares were the largest single cost of a registration
// (kd-bench, 1000 identities sharing a long prefix). Nothing reads the order of a hash table:
// sorted_by_key() and changes() give entries in key order, as the state files write them.
#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/string_hash.hpp"

namespace kd {

// The entries of a map by string key (a hash table) in key order.
template <class M>
std::vector<const typename M::value_type*> sorted_by_key(const M& m) {
  std::vector<const typename M::value_type*> out;
  out.reserve(m.size());
  for (const auto& e : m) out.push_back(&e);
  std::sort(out.begin(), out.end(), [](const auto* a, const auto* b) { return a->first < b->first; });
  return out;
}

template <class V>
class TrackedMap {
public:
  // Unordered: sorted_by_key() wherever the order shows.
  using Map = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;
  using iterator = typename Map::iterator;
  using const_iterator = typename Map::const_iterator;

  TrackedMap() = default;
  explicit TrackedMap(Map m) : map_(std::move(m)) {}

  const Map& all() const { return map_; }
  const_iterator begin() const { return map_.begin(); }
  const_iterator end() const { return map_.end(); }
  std::size_t size() const { return map_.size(); }
  bool empty() const { return map_.empty(); }
  std::size_t count(std::string_view k) const { return map_.find(k) == map_.end() ? 0 : 1; }
  const_iterator find(std::string_view k) const { return map_.find(k); }
  const V& at(std::string_view k) const {
    auto it = map_.find(k);
    if (it == map_.end()) throw std::out_of_range("TrackedMap::at");
    return it->second;
  }

  // Access that may change an entry: each marks the key.
  iterator find(std::string_view k) {
    auto it = map_.find(k);
    if (it != map_.end()) remember(it->first, &it->second);
    return it;
  }
  iterator end() { return map_.end(); }
  V& operator[](std::string_view k) { return entry(k)->second; }
  // The entry of k, added with V{} when absent.
  iterator entry(std::string_view k) {
    auto it = map_.find(k);
    const bool found = it != map_.end();
    remember(k, found ? &it->second : nullptr);
    return found ? it : map_.emplace(std::string(k), V{}).first;
  }
  void erase(std::string_view k) {
    auto it = map_.find(k);
    if (it == map_.end()) return;
    remember(it->first, &it->second);
    map_.erase(it);
  }
  void erase(iterator it) {
    remember(it->first, &it->second);
    map_.erase(it);
  }
  template <class Pred>
  void erase_if(Pred drop) {
    for (auto it = map_.begin(); it != map_.end();) {
      if (drop(*it)) {
        remember(it->first, &it->second);
        it = map_.erase(it);
      } else {
        ++it;
      }
    }
  }
  // Replaces the whole content as loaded: nothing is marked.
  void reset(Map m) {
    map_ = std::move(m);
    before_.clear();
  }

  // The entries that differ from the last save: f(key, value now or nullptr when removed).
  template <class F>
  void changes(F f) const {
    for (const auto* e : sorted_by_key(before_)) {
      const V* now = current(e->first);
      if (differs(e->second, now)) f(e->first, now);
    }
  }
  bool changed() const {
    for (const auto& [k, was] : before_)
      if (differs(was, current(k))) return true;
    return false;
  }
  // What the map holds now is durable: no entry differs from the last save.
  void mark_saved() { before_.clear(); }
  // Whether changes are remembered (the default). Off, for a map whose changes nobody saves (a
  // service without --state): no key is marked, so a change costs no copy of the entry and no
  // node in a table that would only grow; changed() stays false and changes() gives none. Either
  // way the map holds what it held before: on again, changes count from then.
  void set_tracking(bool on) {
    tracking_ = on;
    before_.clear();
  }

  bool operator==(const TrackedMap& o) const { return map_ == o.map_; }

private:
  // By key: the value at the last save, nullopt when the key was absent.
  using Before = std::unordered_map<std::string, std::optional<V>, StringHash, std::equal_to<>>;

  void remember(std::string_view k, const V* now) {
    if (!tracking_) return;
    if (before_.find(k) != before_.end()) return;  // marked since the save: its saved value is kept
    before_.emplace(std::string(k), now ? std::optional<V>(*now) : std::nullopt);
  }
  const V* current(std::string_view k) const {
    auto it = map_.find(k);
    return it == map_.end() ? nullptr : &it->second;
  }
  static bool differs(const std::optional<V>& was, const V* now) {
    return now ? (!was || !(*was == *now)) : was.has_value();
  }

  Map map_;
  Before before_;
  bool tracking_ = true;
};

}  // namespace kd
