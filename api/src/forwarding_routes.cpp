// /api/v1/targets, /api/v1/rules, /api/v1/forwards and /api/v1/deliveries (SPEC §5, §6).
// Secrets are never returned.
#include <boost/json.hpp>
#include <pqxx/pqxx>

#include "octohub/core/log.h"
#include "octohub/core/timestamp.h"
#include "octohub/forward/delivery_outbox.h"
#include "octohub/forward/forward_request.h"
#include "octohub/forward/spec_stores.h"
#include "octohub/forward/specs.h"
#include "octohub/forward/target_health.h"
#include "routes.h"

namespace octohub::api {
using namespace octohub::forward;
namespace json = boost::json;
namespace {

// The body as an object, with the path's name filled in (PUT) or checked against it.
std::optional<Reply> ReadNamed(const RequestView& request, const std::string* path_name,
                               json::value& body) {
  if (auto bad = ParseBody(request, true, body)) return bad;
  if (path_name != nullptr && body.is_object()) {
    auto& fields = body.as_object();
    if (!fields.contains("name")) fields["name"] = *path_name;
    if (fields["name"] != json::value(*path_name)) {
      return ProblemReply(422, "the name in the body differs from the one in the path",
                          {{"/name", "must be \"" + *path_name + "\" (as in the path)"}});
    }
  }
  return std::nullopt;
}

Reply Saved201or200(Saved saved, json::object body, const std::string& location) {
  Reply reply = JsonReply(saved == Saved::kCreated ? 201 : 200, std::move(body));
  if (saved == Saved::kCreated) reply.headers.emplace_back("Location", location);
  return reply;
}

std::optional<int> IntParam(const RequestView& request, const char* name, int min, int max,
                            int fallback, std::optional<Reply>& bad) {
  for (const auto& [key, value] : request.query) {
    if (key != name) continue;
    auto parsed = ParseIntParam(key, value, min, max);
    if (!parsed.ok()) {
      bad = ReplyForStatus(parsed.status());
      return std::nullopt;
    }
    return *parsed;
  }
  return fallback;
}

// ---- targets

Reply SaveTarget(const ServerDependencies& deps, const RequestView& request, bool create) {
  json::value body;
  const std::string* path_name = create ? nullptr : &request.path_params[0];
  if (auto bad = ReadNamed(request, path_name, body)) return *bad;
  auto spec = ParseTargetSpec(body);
  if (!spec.ok()) return ReplyForStatus(spec.status());
  auto saved = TargetStore(deps.db).Save(*spec, create);
  if (!saved.ok()) return ReplyForStatus(saved.status());
  log::Info("forward.target_saved", {{"target", spec->name}});
  return Saved201or200(*saved, TargetSpecToJson(*spec, true), "/api/v1/targets/" + spec->name);
}

// A target as saved (secrets redacted) and how it is doing.
json::object TargetToJson(const TargetSpec& spec, const TargetHealth& health) {
  json::object out = TargetSpecToJson(spec, true);
  AddTargetHealth(health, out);
  return out;
}

Reply GetTarget(const ServerDependencies& deps, const RequestView& request) {
  auto spec = TargetStore(deps.db).Get(request.path_params[0]);
  if (!spec.ok()) return ReplyForStatus(spec.status());
  auto health = TargetHealthStore(deps.db).Get(spec->name);
  if (!health.ok()) return ReplyForStatus(health.status());
  return JsonReply(200, TargetToJson(*spec, *health));
}

Reply ListTargets(const ServerDependencies& deps, const RequestView&) {
  auto list = TargetStore(deps.db).List();
  if (!list.ok()) return ReplyForStatus(list.status());
  auto states = TargetHealthStore(deps.db).All();
  if (!states.ok()) return ReplyForStatus(states.status());
  json::array out;
  for (const auto& spec : *list) {
    auto known = states->find(spec.name);
    out.push_back(TargetToJson(spec, known == states->end() ? TargetHealth{} : known->second));
  }
  return JsonReply(200, json::object{{"targets", std::move(out)}});
}

Reply ResumeTarget(const ServerDependencies& deps, const RequestView& request) {
  const std::string& name = request.path_params[0];
  auto spec = TargetStore(deps.db).Get(name);
  if (!spec.ok()) return ReplyForStatus(spec.status());
  auto before = TargetHealthStore(deps.db).Get(name);
  if (!before.ok()) return ReplyForStatus(before.status());
  auto resumed = TargetHealthStore(deps.db).Resume(name);
  if (!resumed.ok()) return ReplyForStatus(resumed.status());
  log::Info("forward.target_resumed", {{"target", name}, {"was", before->state()}});
  return JsonReply(200, TargetToJson(*spec, *resumed));
}

Reply DeleteTarget(const ServerDependencies& deps, const RequestView& request) {
  Status deleted = TargetStore(deps.db).Delete(request.path_params[0]);
  if (!deleted.ok()) return ReplyForStatus(deleted);
  return Reply{204, "application/json", "", {}};
}

// ---- rules

json::object RuleToJson(const StoredRule& rule) { return RuleSpecToJson(rule.spec); }

Reply SaveRule(const ServerDependencies& deps, const RequestView& request, bool create) {
  json::value body;
  const std::string* path_name = create ? nullptr : &request.path_params[0];
  if (auto bad = ReadNamed(request, path_name, body)) return *bad;
  auto spec = ParseRuleSpec(body);
  if (!spec.ok()) return ReplyForStatus(spec.status());
  auto saved = octohub::forward::SaveRule(deps.db, deps.searcher, *spec, create);
  if (!saved.ok()) return ReplyForStatus(saved.status());
  json::object out = RuleSpecToJson(*spec);
  if (spec->backfill && saved->saved != Saved::kUnchanged) {
    out["backfill_result"] = {
        {"forward_id", saved->forward_id ? json::value(*saved->forward_id) : json::value(nullptr)},
        {"deliveries", saved->deliveries},
        {"records", saved->records}};
  }
  log::Info("forward.rule_saved", {{"rule", spec->name}, {"target", spec->target}});
  return Saved201or200(saved->saved, out, "/api/v1/rules/" + spec->name);
}

Reply GetRule(const ServerDependencies& deps, const RequestView& request) {
  auto rule = RuleStore(deps.db).Get(request.path_params[0]);
  if (!rule.ok()) return ReplyForStatus(rule.status());
  return JsonReply(200, RuleToJson(*rule));
}

Reply ListRules(const ServerDependencies& deps, const RequestView&) {
  auto list = RuleStore(deps.db).List();
  if (!list.ok()) return ReplyForStatus(list.status());
  json::array out;
  for (const auto& rule : *list) out.push_back(RuleToJson(rule));
  return JsonReply(200, json::object{{"rules", std::move(out)}});
}

Reply DeleteRule(const ServerDependencies& deps, const RequestView& request) {
  Status deleted = RuleStore(deps.db).Delete(request.path_params[0]);
  if (!deleted.ok()) return ReplyForStatus(deleted);
  return Reply{204, "application/json", "", {}};
}

// ---- forwards

// The records of a forward request, or the problems with it.
Reply CreateForward(const ServerDependencies& deps, const RequestView& request) {
  json::value body;
  if (auto bad = ParseBody(request, false, body)) return *bad;
  const json::object* o = body.if_object();
  if (o == nullptr) return ProblemReply(422, "invalid forward", {{"", "must be an object"}});
  auto parsed = ParseForwardRequest(*o);
  if (!parsed.ok()) return ReplyForStatus(parsed.status());
  // 202 only once the deliveries are committed: from here on they survive anything.
  auto enqueued = Forward(deps.db, deps.searcher, *parsed);
  if (!enqueued.ok()) return ReplyForStatus(enqueued.status());
  log::Info("forward.created", {{"target", parsed->target},
                                {"forward_id", enqueued->forward_id},
                                {"deliveries", enqueued->deliveries}});
  return JsonReply(
      202, json::object{{"forward_id", enqueued->forward_id > 0 ? json::value(enqueued->forward_id)
                                                                : json::value(nullptr)},
                        {"deliveries", enqueued->deliveries},
                        {"records", enqueued->records},
                        {"dead", enqueued->dead}});
}

// ---- deliveries

Reply ListDeliveries(const ServerDependencies& deps, const RequestView& request) {
  DeliveryOutbox::ListRequest list;
  std::optional<Reply> bad;
  auto page = IntParam(request, "page", 1, 1000000, 1, bad);
  auto per_page = IntParam(request, "per_page", 1, 500, 50, bad);
  if (bad) return *bad;
  list.page = *page;
  list.per_page = *per_page;
  for (const auto& [key, value] : request.query) {
    if (key == "status") {
      if (value != "pending" && value != "sent" && value != "failed" && value != "dead") {
        return ProblemReply(400, "\"status\" must be pending, sent, failed or dead");
      }
      list.status = value;
    } else if (key == "target") {
      list.target = value;
    } else if (key != "page" && key != "per_page") {
      return ProblemReply(400, "unknown parameter \"" + key + "\"");
    }
  }
  auto out = DeliveryOutbox(deps.db).List(list);
  if (!out.ok()) return ReplyForStatus(out.status());
  return JsonReply(200, *out);
}

Reply GetDelivery(const ServerDependencies& deps, const RequestView& request) {
  auto id = ParseIdParam(request.path_params[0]);
  if (!id) return ProblemReply(404, "no delivery " + request.path_params[0]);
  auto out = DeliveryOutbox(deps.db).Get(*id);
  if (!out.ok()) return ReplyForStatus(out.status());
  return JsonReply(200, *out);
}

// {"target", "status": [...], "since", "until", "rule"}: at least one, never "everything".
Reply ReplayDeliveries(const ServerDependencies& deps, const RequestView& request) {
  json::value body;
  if (auto bad = ParseBody(request, false, body)) return *bad;
  const json::object* o = body.if_object();
  if (o == nullptr) return ProblemReply(422, "invalid replay", {{"", "must be an object"}});
  DeliveryOutbox::ReplayRequest replay;
  std::vector<FieldError> errors;
  for (const auto& member : *o) {
    const std::string key(member.key());
    const json::value& value = member.value();
    if (key == "status") {
      const json::array* list = value.if_array();
      if (list == nullptr) {
        errors.push_back({"/status", "must be a list of \"dead\", \"failed\" or \"sent\""});
        continue;
      }
      for (size_t i = 0; i < list->size(); ++i) {
        const json::string* status = (*list)[i].if_string();
        if (status == nullptr || (*status != "dead" && *status != "failed" && *status != "sent")) {
          errors.push_back({"/status/" + std::to_string(i), "must be dead, failed or sent"});
        } else {
          replay.status.emplace_back(*status);
        }
      }
    } else if (key == "target" || key == "rule" || key == "since" || key == "until") {
      const json::string* text = value.if_string();
      if (text == nullptr || text->empty()) {
        errors.push_back({"/" + key, "must be a non-empty string"});
        continue;
      }
      if ((key == "since" || key == "until") && !ParseTimestamp(*text)) {
        errors.push_back({"/" + key, "must be a time such as \"2026-12-01T08:00:00Z\""});
        continue;
      }
      std::string& field = key == "target"  ? replay.target
                           : key == "rule"  ? replay.rule
                           : key == "since" ? replay.since
                                            : replay.until;
      field = std::string(*text);
    } else {
      errors.push_back({"/" + key, "is not a replay filter (target, status, since, until, rule)"});
    }
  }
  if (!errors.empty()) return ProblemReply(422, "invalid replay", errors);
  auto replayed = DeliveryOutbox(deps.db).Replay(replay);
  if (!replayed.ok()) {
    if (replayed.status().code() == StatusCode::kInvalidArgument) {
      return ProblemReply(400, replayed.status().message());
    }
    return ReplyForStatus(replayed.status());
  }
  log::Info("forward.replay", {{"target", replay.target},
                               {"rule", replay.rule},
                               {"since", replay.since},
                               {"until", replay.until},
                               {"deliveries", *replayed}});
  return JsonReply(202, json::object{{"replayed", *replayed}});
}

Reply RetryDelivery(const ServerDependencies& deps, const RequestView& request) {
  auto id = ParseIdParam(request.path_params[0]);
  if (!id) return ProblemReply(404, "no delivery " + request.path_params[0]);
  auto out = DeliveryOutbox(deps.db).Retry(*id);
  if (!out.ok()) return ReplyForStatus(out.status());
  log::Info("forward.retry", {{"delivery", *id}});
  return JsonReply(202, *out);
}

}  // namespace

void AddForwardingRoutes(RouteTable& table) {
  auto add = [&table](const char* method, const char* pattern, Role role,
                      RouteTable::DepsHandler handler) {
    table.Add(method, pattern, role, handler);
  };
  add("GET", "/api/v1/targets", Role::kWrite, ListTargets);
  add("POST", "/api/v1/targets", Role::kWrite,
      [](const ServerDependencies& d, const RequestView& r) { return SaveTarget(d, r, true); });
  add("GET", "/api/v1/targets/{name}", Role::kWrite, GetTarget);
  add("PUT", "/api/v1/targets/{name}", Role::kWrite,
      [](const ServerDependencies& d, const RequestView& r) { return SaveTarget(d, r, false); });
  add("DELETE", "/api/v1/targets/{name}", Role::kAdmin, DeleteTarget);
  add("POST", "/api/v1/targets/{name}/resume", Role::kWrite, ResumeTarget);
  add("GET", "/api/v1/rules", Role::kWrite, ListRules);
  add("POST", "/api/v1/rules", Role::kWrite,
      [](const ServerDependencies& d, const RequestView& r) { return SaveRule(d, r, true); });
  add("GET", "/api/v1/rules/{name}", Role::kWrite, GetRule);
  add("PUT", "/api/v1/rules/{name}", Role::kWrite,
      [](const ServerDependencies& d, const RequestView& r) { return SaveRule(d, r, false); });
  add("DELETE", "/api/v1/rules/{name}", Role::kAdmin, DeleteRule);
  add("POST", "/api/v1/forwards", Role::kWrite, CreateForward);
  add("GET", "/api/v1/deliveries", Role::kWrite, ListDeliveries);
  add("GET", "/api/v1/deliveries/{id}", Role::kWrite, GetDelivery);
  add("POST", "/api/v1/deliveries/replay", Role::kWrite, ReplayDeliveries);
  add("POST", "/api/v1/deliveries/{id}/retry", Role::kWrite, RetryDelivery);
}

}  // namespace octohub::api
