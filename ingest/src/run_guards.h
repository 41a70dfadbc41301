// The correctness guards of SPEC §3: what a finished pass says about the data it stored,
// as run warnings. Pure.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "octohub/ingest/ingest.h"

namespace octohub::ingest {

// total_mismatch: the API's own count differs from the records its pages held.
std::optional<RunWarning> TotalMismatch(std::optional<std::int64_t> reported_total,
                                        std::int64_t records_seen);
// short_page: a page held fewer records than asked and more pages followed: the API caps
// its page size, and page-numbered paging may skip records.
std::optional<RunWarning> ShortPage(std::optional<std::int64_t> first_short_page,
                                    std::int64_t size);
// cursor_stalled: records were new or changed, yet the incremental cursor did not move.
std::optional<RunWarning> CursorStalled(const std::string& cursor_pointer,
                                        const std::optional<std::string>& stored,
                                        const std::optional<std::string>& highest_seen,
                                        std::int64_t changed_records);
// count_dropped: a full pass saw less than half the records of the last successful one.
std::optional<RunWarning> CountDropped(std::int64_t records_seen,
                                       std::optional<std::int64_t> previous_pass);
// skipped_records: records not stored, with their reasons.
std::optional<RunWarning> SkippedRecords(const std::map<std::string, std::int64_t>& reasons);
// mass_delete: a full pass would delete more than the allowed share of the source.
std::optional<RunWarning> MassDelete(std::int64_t unseen, std::int64_t stored, double max_ratio);

// Collects warnings, keeping one of each code (the first) and how often it came up, as a
// child source's pass per parent record may raise the same one many times.
class WarningSet {
 public:
  void Add(std::optional<RunWarning> warning);
  std::vector<RunWarning> List() const;
  bool empty() const { return first_.empty(); }
  // "short_page: …; total_mismatch: …", for the error of a strict run.
  std::string Summary() const;

 private:
  std::map<std::string, RunWarning> first_;
  std::map<std::string, int> count_;
  std::vector<std::string> order_;
};

}  // namespace octohub::ingest
