#include "demo_forwarding.h"

#include <boost/json.hpp>
#include <deque>
#include <mutex>

#include "octohub/forward/spec_stores.h"
#include "octohub/forward/specs.h"

namespace octohub::hub {
namespace json = boost::json;
namespace {

constexpr size_t kKept = 50;

struct Inbox {
  std::mutex mutex;
  std::int64_t received = 0;
  std::deque<json::value> latest;  // newest first
};

// The target's body: a line a chat or ticket system would take, and where it came from.
constexpr const char* kTarget = R"({
  "name": "demo-inbox",
  "url": "{base}/inbox",
  "method": "POST",
  "batch": 1,
  "max_attempts": 5,
  "template": "{\"text\": \"{{/package}} {{/version}} failed to build on {{/architecture}}\", \"record\": \"{{source}}/{{id}}\"}"
})";

constexpr const char* kRule = R"({
  "name": "failed-builds",
  "query": {"q": "status:failed", "source": "build-queue"},
  "target": "demo-inbox",
  "enabled": true
})";

}  // namespace

std::vector<api::Route> DemoInboxRoutes() {
  auto inbox = std::make_shared<Inbox>();
  api::Route take{"POST", "/inbox", [inbox](const api::RequestView& request) {
                    json::error_code ec;
                    json::value body = json::parse(request.body, ec);
                    if (ec) return api::ProblemReply(400, "the body is not JSON");
                    std::lock_guard lock(inbox->mutex);
                    ++inbox->received;
                    inbox->latest.push_front(std::move(body));
                    if (inbox->latest.size() > kKept) inbox->latest.pop_back();
                    return api::JsonReply(200, json::object{{"received", inbox->received}});
                  }};
  take.on_worker = false;
  api::Route show{
      "GET", "/inbox", [inbox](const api::RequestView&) {
        std::lock_guard lock(inbox->mutex);
        return api::JsonReply(
            200, json::object{{"received", inbox->received},
                              {"latest", json::array(inbox->latest.begin(), inbox->latest.end())}});
      }};
  show.on_worker = false;
  return {take, show};
}

Status ApplyDemoForwarding(const Database& db, const std::string& base) {
  std::string target_document = kTarget;
  target_document.replace(target_document.find("{base}"), 6, base);
  auto target = forward::ParseTargetSpec(json::parse(target_document));
  if (!target.ok()) return target.status().WithContext("demo target");
  if (auto saved = forward::TargetStore(db).Save(*target, false); !saved.ok()) {
    return saved.status().WithContext("demo target");
  }
  auto rule = forward::ParseRuleSpec(json::parse(kRule));
  if (!rule.ok()) return rule.status().WithContext("demo rule");
  if (auto saved = forward::RuleStore(db).Save(*rule, false); !saved.ok()) {
    return saved.status().WithContext("demo rule");
  }
  return Status::Ok();
}

}  // namespace octohub::hub
