// POST /api/v1/hooks/{source} (SPEC §3 "Push (webhooks)"): records pushed by their sender,
// authenticated by its signature instead of an API key.
#include <boost/json.hpp>

#include "octohub/core/log.h"
#include "octohub/core/secrets.h"
#include "octohub/ingest/push.h"
#include "routes.h"

namespace octohub::api {
namespace json = boost::json;
namespace {

Reply ReceivePush(const ServerDependencies& deps, const RequestView& request) {
  const std::string& name = request.path_params[0];
  ingest::PushReceiver& receiver = *deps.push;
  auto spec = receiver.Source(name);
  if (!spec.ok()) return ReplyForStatus(spec.status());
  if (!spec->push) {
    return ProblemReply(404, "source \"" + name +
                                 "\" does not receive pushes: give it \"push\" with how the "
                                 "sender signs them");
  }
  auto secret = RevealSecret(spec->push->secret, "/push/secret");
  if (!secret.ok()) {
    log::Error("push.secret_unreadable", {{"source", name}, {"reason", secret.status().message()}});
    return ProblemReply(503,
                        "this server cannot read the source's push secret; its operator "
                        "has been told");
  }
  auto check = ingest::CheckPushSignature(*spec->push, *secret, request.headers, request.body,
                                          std::chrono::system_clock::now());
  if (!check.accepted) {
    log::Warn("push.refused",
              {{"source", name}, {"client", request.client}, {"reason", check.reason}});
    return ProblemReply(401, check.reason);
  }
  // 400 for a body that is not records, 422 for records that cannot be stored, 409 for a
  // replay, 503 when PostgreSQL cannot take it now: in each case nothing of it is stored.
  auto stored = receiver.Store(*spec, request.body, check.replay_key);
  if (!stored.ok()) return ReplyForStatus(stored.status());
  return JsonReply(202, json::object{{"source", name}, {"records", stored->records}});
}

}  // namespace

void AddHookRoutes(RouteTable& table) {
  table.Add("POST", "/api/v1/hooks/{source}", Role::kPublic, ReceivePush);
}

}  // namespace octohub::api
