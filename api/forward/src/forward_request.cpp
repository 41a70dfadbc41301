#include "octohub/forward/forward_request.h"

#include <boost/json.hpp>
#include <pqxx/pqxx>

#include "octohub/forward/spec_stores.h"

namespace octohub::forward {
namespace json = boost::json;

Result<ForwardRequest> ParseForwardRequest(const json::object& o) {
  std::vector<FieldError> errors;
  ForwardRequest request;
  const json::value* name = o.if_contains("target");
  if (name == nullptr || !name->is_string() || name->get_string().empty()) {
    errors.push_back({"/target", "is required (a target's name)"});
  } else {
    request.target = std::string(name->get_string());
  }
  for (const auto& member : o) {
    if (member.key() != "target" && member.key() != "records" && member.key() != "query" &&
        member.key() != "limit") {
      errors.push_back({"/" + std::string(member.key()), "unknown field"});
    }
  }
  const json::value* records = o.if_contains("records");
  const json::value* query = o.if_contains("query");
  if ((records == nullptr) == (query == nullptr)) {
    errors.push_back({"", "give either \"records\" or \"query\""});
  }
  if (records != nullptr) {
    if (o.contains("limit")) errors.push_back({"/limit", "only goes with \"query\""});
    const json::array* list = records->if_array();
    if (list == nullptr || list->empty() ||
        list->size() > static_cast<size_t>(kMaxForwardRecords)) {
      errors.push_back({"/records", "must be an array of 1 to " +
                                        std::to_string(kMaxForwardRecords) + " records"});
    } else {
      for (size_t i = 0; i < list->size(); ++i) {
        const json::object* item = (*list)[i].if_object();
        const json::value* source = item ? item->if_contains("source") : nullptr;
        const json::value* id = item ? item->if_contains("id") : nullptr;
        if (!source || !id || !source->is_string() || !(id->is_string() || id->is_int64()) ||
            item->size() != 2) {
          errors.push_back(
              {"/records/" + std::to_string(i), "must be {\"source\": \"…\", \"id\": \"…\"}"});
          continue;
        }
        request.records.emplace_back(
            std::string(source->get_string()),
            id->is_string() ? std::string(id->get_string()) : std::to_string(id->get_int64()));
      }
    }
  }
  ForwardQuery wanted;
  if (query != nullptr) {
    const json::object* fields = query->if_object();
    if (fields == nullptr) {
      errors.push_back({"/query", "must be an object {\"q\", \"source\"}"});
    } else {
      for (const auto& member : *fields) {
        const std::string key(member.key());
        if (key != "q" && key != "source") {
          errors.push_back({"/query/" + key, "unknown field"});
        } else if (!member.value().is_string()) {
          errors.push_back({"/query/" + key, "must be a string"});
        } else {
          (key == "q" ? wanted.q : wanted.source) = std::string(member.value().get_string());
        }
      }
    }
    if (const json::value* l = o.if_contains("limit")) {
      if (!l->is_int64() || l->get_int64() < 1 || l->get_int64() > kMaxForwardRecords) {
        errors.push_back(
            {"/limit", "must be an integer from 1 to " + std::to_string(kMaxForwardRecords)});
      } else {
        wanted.limit = l->get_int64();
      }
    }
  }
  if (!errors.empty()) return InvalidArgument("invalid forward", errors);
  if (query != nullptr) request.query = std::move(wanted);
  return request;
}

Result<Enqueued> Forward(const Database& db, indexer::Searcher& searcher,
                         const ForwardRequest& request) {
  auto target = TargetStore(db).Get(request.target);
  if (!target.ok()) {
    if (target.status().code() != StatusCode::kNotFound) return target.status();
    return InvalidArgument("invalid forward", {{"/target", target.status().message()}});
  }
  std::vector<RecordKey> keys = request.records;
  if (request.query) {
    auto matches = MatchingRecords(searcher, request.query->q, SplitSources(request.query->source),
                                   request.query->limit);
    if (!matches.ok()) {
      if (matches.status().code() != StatusCode::kInvalidArgument) return matches.status();
      return InvalidArgument("invalid forward", {{"/query/q", matches.status().message()}});
    }
    keys = std::move(*matches);
  }
  return WithConnection(db, "forwarding", [&](pqxx::connection& c) -> Result<Enqueued> {
    pqxx::work tx(c);
    // Matches of a query may have been deleted since: they are skipped, not an error.
    auto done = EnqueueRecords(tx, *target, keys, std::nullopt, request.query.has_value());
    if (done.ok()) tx.commit();
    return done;
  });
}

}  // namespace octohub::forward
