// Issue-like records for the benchmarks (tests/bench/ingest, tests/bench/search), about 1 KB
// of minified JSON each: {"id","title","body","author":{"login","name"},"labels":[{"name"}],
// "created_at","updated_at","comments","state"} ("open" for about 3 in 10). Record n depends
// only on n and the sentences given, never on call order, so a benchmark's API and its COPY
// file produce the same rows. Pure and thread-safe after construction.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace octohub::bench {

class IssueGenerator {
 public:
  // sentences: real text to draw titles and bodies from (say, Debian package synopses);
  // when empty, sentences are made from a small built-in vocabulary.
  explicit IssueGenerator(std::vector<std::string> sentences);

  // Record n (n >= 1) as minified JSON, with "id": n.
  std::string Record(std::int64_t n) const;

 private:
  std::vector<std::string> sentences_;
};

// Reads one sentence a line, skipping blank lines and lines that are not valid UTF-8;
// an unreadable file gives none.
std::vector<std::string> ReadSentences(const std::string& path);

}  // namespace octohub::bench
