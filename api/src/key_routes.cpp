// /api/v1/keys (admin): list, create (the secret is shown once) and revoke API keys.
#include <boost/json.hpp>

#include "routes.h"

namespace octohub::api {
namespace json = boost::json;
namespace {

Reply CreateKey(KeyStore& keys, const RequestView& request) {
  json::value body;
  if (auto bad = ParseBody(request, false, body)) return *bad;
  std::vector<FieldError> errors;
  const json::object* fields = body.if_object();
  if (fields == nullptr)
    return ProblemReply(422, "the body must be a JSON object", {{"", "must be an object"}});
  std::optional<Role> role;
  const json::value* role_value = fields->if_contains("role");
  if (role_value == nullptr || !role_value->is_string() ||
      !(role = ParseRole(role_value->get_string()))) {
    errors.push_back({"/role", "must be read, write or admin"});
  }
  std::string name = "key";
  if (const json::value* n = fields->if_contains("name")) {
    if (!n->is_string() || n->get_string().empty() || n->get_string().size() > 100) {
      errors.push_back({"/name", "must be a string of 1-100 characters"});
    } else {
      name = std::string(n->get_string());
    }
  }
  for (const auto& member : *fields) {
    if (member.key() != "role" && member.key() != "name") {
      errors.push_back({"/" + std::string(member.key()), "unknown field"});
    }
  }
  if (!errors.empty()) return ProblemReply(422, "invalid key request", errors);
  auto created = keys.Create(*role, name);
  if (!created.ok()) return ReplyForStatus(created.status());
  json::object out = ApiKeyToJson(created->key);
  out["key"] = created->secret;
  Reply reply = JsonReply(201, out);
  reply.headers.emplace_back("Location", "/api/v1/keys/" + std::to_string(created->key.id));
  return reply;
}

Reply ListKeys(KeyStore& keys) {
  auto list = keys.List();
  if (!list.ok()) return ReplyForStatus(list.status());
  json::array out;
  for (const auto& key : *list) out.push_back(ApiKeyToJson(key));
  return JsonReply(200, json::object{{"keys", std::move(out)}});
}

Reply RevokeKey(KeyStore& keys, const RequestView& request) {
  auto id = ParseIdParam(request.path_params[0]);
  if (!id) return ProblemReply(404, "no API key " + request.path_params[0]);
  Status revoked = keys.Revoke(*id);
  if (!revoked.ok()) return ReplyForStatus(revoked);
  return Reply{204, "application/json", "", {}};
}

}  // namespace

void AddKeyRoutes(RouteTable& table) {
  KeyStore& keys = table.keys();
  table.Add("GET", "/api/v1/keys", Role::kAdmin,
            [&keys](const RequestView&) { return ListKeys(keys); });
  table.Add("POST", "/api/v1/keys", Role::kAdmin,
            [&keys](const RequestView& r) { return CreateKey(keys, r); });
  table.Add("DELETE", "/api/v1/keys/{id}", Role::kAdmin,
            [&keys](const RequestView& r) { return RevokeKey(keys, r); });
}

}  // namespace octohub::api
