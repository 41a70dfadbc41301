// GET /api/v1/records/{source}/{id}: one stored record as fetched (SPEC §4).
#include <boost/json.hpp>

#include "octohub/ingest/ingest.h"
#include "routes.h"

namespace octohub::api {
namespace json = boost::json;
namespace {

Reply Record(const ServerDependencies& deps, const RequestView& request) {
  auto record = ingest::ReadRecord(deps.db, request.path_params[0], request.path_params[1]);
  if (!record.ok()) return ReplyForStatus(record.status());
  const std::string etag = "\"" + record->content_hash + (record->deleted ? "-d" : "") + "\"";
  if (request.if_none_match == etag) return Reply{304, "application/json", "", {{"ETag", etag}}};
  // The stored data is JSON already (PostgreSQL's jsonb as text): spliced in, not re-parsed.
  json::object fields{{"source", record->source},
                      {"id", record->id},
                      {"fetched_at", record->fetched_at},
                      {"updated_at", record->updated_at},
                      {"deleted", record->deleted}};
  if (record->parent) {
    fields["parent"] = {{"source", record->parent->first}, {"id", record->parent->second}};
  }
  std::string body = json::serialize(fields);
  body.pop_back();  // the closing brace
  body += ",\"data\":";
  body += record->data;
  body += '}';
  Reply reply{200, "application/json", std::move(body), {{"ETag", etag}}};
  return reply;
}

}  // namespace

void AddRecordRoutes(RouteTable& table) {
  table.Add("GET", "/api/v1/records/{source}/{id}", Role::kRead, Record);
}

}  // namespace octohub::api
