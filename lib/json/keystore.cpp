#include "json/keystore.hpp"

#include <algorithm>

#include "json/internal.hpp"

namespace kd::json {

Result<flow::Keystore> decode_keystore(std::string_view text) {
  json j;
  if (auto s = parse_strict(text, j); !s) return s.error();
  // Members kd does not know are refused, not ignored: one may mean something this version cannot
  // honour (a newer format changes kd_keystore), and keys add would drop it in rewriting the file.
  auto unknown = [](const json& o, std::initializer_list<std::string_view> known, const std::string& where) {
    std::optional<Error> e;
    for (auto it = o.begin(); it != o.end() && !e; ++it)
      if (std::find(known.begin(), known.end(), it.key()) == known.end())
        e = err(Code::malformed, where + "unknown member \"" + it.key() + "\"");  // escaped where printed
    return e;
  };
  if (j.is_object())
    if (auto e = unknown(j, {"kd_keystore", "entities"}, "")) return *e;
  if (j.is_object() && j.contains("kd_keystore"))
    if (auto v = other_version(j["kd_keystore"], "keystore")) return err(Code::malformed, *v);
  if (!j.is_object() || !j.contains("kd_keystore") || !is_version_one(j["kd_keystore"]) ||
      !j.contains("entities") || !j["entities"].is_array())
    return err(Code::malformed, "not a kd keystore (want {\"kd_keystore\":1,\"entities\":[...]})");
  flow::Keystore ks;
  for (const auto& e : j["entities"]) {
    if (!e.is_object() || !e.contains("id") || !e["id"].is_string())
      return err(Code::malformed, "each entity must be {\"id\":..., \"role\":..., \"key\":...}");
    flow::Entity ent;
    ent.id = e["id"].get<std::string>();
    if (auto s = msg::check_identity("id", ent.id); !s) return s.error();
    if (auto u = unknown(e, {"id", "role", "key"}, "entity " + ent.id + ": ")) return *u;
    if (!e.contains("role") || !e["role"].is_string() || !e.contains("key"))
      return err(Code::malformed, "entity " + ent.id + " must be {\"id\":..., \"role\":..., \"key\":...}");
    auto role = msg::parse_role(e["role"].get<std::string>());
    if (!role || *role == msg::Role::auc)
      return err(Code::malformed, "entity " + ent.id + ": role must be term, proxy or switch");
    ent.role = *role;
    auto key = hex_field(e["key"], "key");
    if (!key) return err(Code::malformed, "entity " + ent.id + ": " + key.error().detail);
    if (key->size() < 16 || key->size() > 64)
      return err(Code::bad_length, "entity " + ent.id + ": key must be 16 to 64 bytes");
    ent.key = Secret(*key);
    secure_wipe(key->data(), key->size());
    // kd writes entities in id order: each then goes at the end, without a search, and a load of n
    // entities costs n, not n log n (kd-auc keys on 100,000 terminals). Any other order still loads.
    auto at = ks.entities.end();
    if (!ks.entities.empty() && !(ks.entities.rbegin()->first < ent.id)) {
      at = ks.entities.lower_bound(ent.id);
      if (at != ks.entities.end() && at->first == ent.id)
        return err(Code::malformed, "entity " + ent.id + " appears twice");
    }
    std::string id = ent.id;
    ks.entities.emplace_hint(at, std::move(id), std::move(ent));
  }
  return ks;
}

std::string encode_keystore(const flow::Keystore& ks) {
  ojson arr = ojson::array();
  for (const auto& [id, e] : ks.entities)
    arr.push_back(ojson{{"id", id}, {"role", msg::role_name(e.role)}, {"key", to_hex(e.key.view())}});
  ojson j;
  j["kd_keystore"] = 1;
  j["entities"] = std::move(arr);
  return j.dump(2) + "\n";
}

}  // namespace kd::json
