#include "run_guards.h"

#include <cmath>

#include "page_extractor.h"

namespace octohub::ingest {
namespace {

std::string Records(std::int64_t n) {
  return std::to_string(n) + (n == 1 ? " record" : " records");
}

}  // namespace

std::optional<RunWarning> TotalMismatch(std::optional<std::int64_t> reported_total,
                                        std::int64_t records_seen) {
  if (!reported_total || *reported_total == records_seen) return std::nullopt;
  return RunWarning{"total_mismatch", "the API counts " + Records(*reported_total) +
                                          " but its pages held " + std::to_string(records_seen)};
}

std::optional<RunWarning> ShortPage(std::optional<std::int64_t> first_short_page,
                                    std::int64_t size) {
  if (!first_short_page) return std::nullopt;
  return RunWarning{"short_page", "page " + std::to_string(*first_short_page) +
                                      " held fewer than the " + std::to_string(size) +
                                      " records asked for and more pages followed: the API "
                                      "caps its page size (page-numbered paging may skip "
                                      "records; offsets follow what each page held)"};
}

std::optional<RunWarning> CursorStalled(const std::string& cursor_pointer,
                                        const std::optional<std::string>& stored,
                                        const std::optional<std::string>& highest_seen,
                                        std::int64_t changed_records) {
  if (changed_records == 0) return std::nullopt;
  if (highest_seen && (!stored || CursorGreater(*highest_seen, *stored))) return std::nullopt;
  return RunWarning{"cursor_stalled", Records(changed_records) +
                                          " were new or changed, yet the incremental "
                                          "cursor " +
                                          cursor_pointer + " did not advance" +
                                          (stored ? " past \"" + *stored + "\""
                                                  : " (the records have no value there)")};
}

std::optional<RunWarning> CountDropped(std::int64_t records_seen,
                                       std::optional<std::int64_t> previous_pass) {
  if (!previous_pass || records_seen * 2 >= *previous_pass) return std::nullopt;
  return RunWarning{"count_dropped", "this full pass saw " + Records(records_seen) +
                                         ", less than half the " + std::to_string(*previous_pass) +
                                         " of the last one"};
}

std::optional<RunWarning> SkippedRecords(const std::map<std::string, std::int64_t>& reasons) {
  if (reasons.empty()) return std::nullopt;
  std::int64_t total = 0;
  std::string listed;
  for (const auto& [reason, count] : reasons) {
    total += count;
    listed += (listed.empty() ? "" : ", ") + reason + " (" + std::to_string(count) + ")";
  }
  return RunWarning{"skipped_records", Records(total) + " skipped: " + listed};
}

std::optional<RunWarning> MassDelete(std::int64_t unseen, std::int64_t stored, double max_ratio) {
  if (stored == 0 || static_cast<double>(unseen) <= max_ratio * static_cast<double>(stored)) {
    return std::nullopt;
  }
  const long percent =
      std::lround(100.0 * static_cast<double>(unseen) / static_cast<double>(stored));
  return RunWarning{
      "mass_delete",
      "the full pass did not see " + std::to_string(unseen) + " of the " + Records(stored) +
          " stored (" + std::to_string(percent) + "%), more than max_delete_ratio allows (" +
          std::to_string(std::lround(max_ratio * 100)) + "%): nothing was marked deleted"};
}

void WarningSet::Add(std::optional<RunWarning> warning) {
  if (!warning) return;
  if (++count_[warning->code] == 1) {
    order_.push_back(warning->code);
    first_.emplace(warning->code, std::move(*warning));
  }
}

std::vector<RunWarning> WarningSet::List() const {
  std::vector<RunWarning> out;
  for (const auto& code : order_) {
    RunWarning warning = first_.at(code);
    const int more = count_.at(code) - 1;
    if (more > 0) {
      warning.detail +=
          " (and " + std::to_string(more) + (more == 1 ? " more time)" : " more times)");
    }
    out.push_back(std::move(warning));
  }
  return out;
}

std::string WarningSet::Summary() const {
  std::string out;
  for (const auto& warning : List()) {
    out += (out.empty() ? "" : "; ") + warning.code + ": " + warning.detail;
  }
  return out;
}

}  // namespace octohub::ingest
