// Rules, evaluated after each index commit against the freshly committed index.
#include <algorithm>
#include <boost/json.hpp>
#include <pqxx/pqxx>
#include <set>

#include "octohub/core/log.h"
#include "octohub/core/pg_array.h"
#include "octohub/forward/enqueue.h"
#include "octohub/forward/forwarder.h"
#include "octohub/forward/specs.h"

namespace octohub::forward {
namespace json = boost::json;
namespace {

constexpr int kChunk = 2000;

constexpr const char* kChanged = R"(
  SELECT source, id, content_hash::text, change_seq FROM records
  WHERE change_seq > $1 AND change_seq <= $2 AND NOT deleted
  ORDER BY change_seq LIMIT $3)";

// Of the matches, the record versions this rule has not forwarded yet (now remembered).
constexpr const char* kFirstMatches = R"(
  INSERT INTO rule_matches (rule, source, id, content_hash)
  SELECT $1, k.source, k.id, k.hash::uuid
  FROM unnest($2::text[], $3::text[], $4::text[]) AS k(source, id, hash)
  ON CONFLICT DO NOTHING
  RETURNING source, id)";

struct Changed {
  std::string source, id, hash;
  std::int64_t seq;
};

}  // namespace

RuleEvaluator::RuleEvaluator(const Database& db, indexer::Searcher& searcher)
    : db_(db), searcher_(searcher) {}

Result<std::int64_t> RuleEvaluator::Evaluate(std::int64_t checkpoint) {
  return WithConnection(db_, "evaluating rules", [&](pqxx::connection& c) -> Result<std::int64_t> {
    struct Active {
      RuleSpec spec;
      std::int64_t from_seq;
      TargetSpec target;
    };
    std::int64_t created = 0;
    while (true) {
      pqxx::work tx(c);
      // One evaluator at a time; the row lock also orders us with rule saves.
      std::int64_t done =
          tx.exec1("SELECT checkpoint FROM rule_progress FOR UPDATE")[0].as<std::int64_t>();
      if (done >= checkpoint) return created;
      std::vector<Active> rules;
      std::int64_t earliest = checkpoint;
      for (const auto& row :
           tx.exec("SELECT r.spec::text, r.from_seq, t.spec::text FROM rules r "
                   "JOIN targets t ON t.name = r.target WHERE r.enabled ORDER BY r.name")) {
        auto rule = ParseRuleSpec(json::parse(row[0].as<std::string>()));
        auto target = ParseTargetSpec(json::parse(row[2].as<std::string>()));
        if (!rule.ok() || !target.ok()) continue;
        rules.push_back({*rule, row[1].as<std::int64_t>(), *target});
        earliest = std::min(earliest, rules.back().from_seq);
      }
      const std::int64_t from = std::max(done, earliest);
      std::vector<Changed> changed;
      for (const auto& row : tx.exec_params(kChanged, from, checkpoint, kChunk)) {
        changed.push_back({row[0].as<std::string>(), row[1].as<std::string>(),
                           row[2].as<std::string>(), row[3].as<std::int64_t>()});
      }
      const std::int64_t reached =
          static_cast<int>(changed.size()) < kChunk ? checkpoint : changed.back().seq;
      for (const auto& rule : rules) {
        const auto sources = SplitSources(rule.spec.source);
        const std::set<std::string> wanted(sources.begin(), sources.end());
        std::vector<RecordKey> among;
        std::map<RecordKey, const Changed*> changes;
        for (const auto& r : changed) {
          if (r.seq <= rule.from_seq || (!wanted.empty() && !wanted.count(r.source))) continue;
          among.emplace_back(r.source, r.id);
          changes[{r.source, r.id}] = &r;
        }
        if (among.empty()) continue;
        const auto limit = static_cast<std::int64_t>(among.size());
        auto matches = MatchingRecords(searcher_, rule.spec.q, sources, limit, std::move(among));
        if (!matches.ok()) {
          if (matches.status().code() == StatusCode::kInvalidArgument) {
            // The query no longer fits the index (a field unmapped, say): nothing matches.
            log::Warn("forward.rule_query_invalid",
                      {{"rule", rule.spec.name}, {"reason", matches.status().message()}});
            continue;
          }
          return matches.status();  // the index is unavailable: retry from here next time
        }
        if (matches->empty()) continue;
        // Sent in the order the records changed, whatever order the index found them in.
        std::sort(matches->begin(), matches->end(), [&](const RecordKey& a, const RecordKey& b) {
          return changes.at(a)->seq < changes.at(b)->seq;
        });
        std::vector<std::string> s, i, h;
        for (const auto& key : *matches) {
          s.push_back(key.first);
          i.push_back(key.second);
          h.push_back(changes.at(key)->hash);
        }
        std::vector<RecordKey> fresh;
        for (const auto& row : tx.exec_params(kFirstMatches, rule.spec.name, PgTextArray(s),
                                              PgTextArray(i), PgTextArray(h))) {
          fresh.emplace_back(row[0].as<std::string>(), row[1].as<std::string>());
        }
        if (fresh.empty()) continue;
        auto enqueued =
            EnqueueRecords(tx, rule.target, fresh, rule.spec.name, true, rule.spec.changed);
        if (!enqueued.ok()) {
          log::Warn("forward.rule_enqueue_failed",
                    {{"rule", rule.spec.name}, {"reason", enqueued.status().message()}});
          continue;
        }
        created += enqueued->deliveries;
        log::Info("forward.rule_matched", {{"rule", rule.spec.name},
                                           {"records", enqueued->records},
                                           {"deliveries", enqueued->deliveries},
                                           {"dead", enqueued->dead},
                                           {"unchanged", enqueued->unchanged},
                                           {"forward_id", enqueued->forward_id}});
      }
      tx.exec_params("UPDATE rule_progress SET checkpoint = $1", reached);
      tx.commit();
    }
  });
}

}  // namespace octohub::forward
