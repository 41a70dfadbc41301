// octohub-bench-search: the data side of tests/bench/search/run.sh.
//   records     writes the benchmark's records as rows for PostgreSQL's COPY (text format) into
//               the records table: source, id, data, content_hash.
//   bare-index  puts the same records into a new Xapian database directly, the ceiling for
//               `octohub reindex`: TermGenerator with positions and the english stemmer,
//               replace_document on a unique id term, a commit every 10,000 documents.
//               Prints "indexed N documents in S s" where S is the time spent in Xapian and
//               in parsing the JSON, not in making up the records.
#include <simdjson.h>
#include <xapian.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "issue_generator.h"
#include "octohub/core/content_hash.h"

namespace {

using octohub::bench::IssueGenerator;
using Clock = std::chrono::steady_clock;

constexpr std::int64_t kCommitEvery = 10'000;

struct Options {
  std::int64_t records = 500'000;
  std::string sentences;
  std::string source = "bench";
  std::string index_dir;
};

// COPY's text format: backslash is the escape character; minified JSON has no raw tabs or
// newlines, so backslashes are the only bytes to escape.
void AppendCopyField(std::string& out, std::string_view field) {
  for (char c : field) {
    if (c == '\\') out += '\\';
    out += c;
  }
}

int WriteRecords(const IssueGenerator& generator, const Options& options) {
  std::string line;
  std::size_t bytes = 0;
  for (std::int64_t n = 1; n <= options.records; ++n) {
    const std::string record = generator.Record(n);
    bytes += record.size();
    line = options.source + "\t" + std::to_string(n) + "\t";
    AppendCopyField(line, record);
    line += "\t" + octohub::ContentHash(record) + "\n";
    if (std::fwrite(line.data(), 1, line.size(), stdout) != line.size()) {
      std::cerr << "octohub-bench-search: cannot write the records\n";
      return 1;
    }
  }
  if (std::fflush(stdout) != 0) return 1;
  std::cerr << "records " << options.records << " average_bytes "
            << bytes / static_cast<std::size_t>(options.records) << "\n";
  return 0;
}

std::string Text(simdjson::dom::element value) {
  return std::string(value.get_string().value_unsafe());
}

// The text a record contributes, as Octohub's mapping for this benchmark picks it: the title
// (also under the S prefix, as Octohub does), then body, author name and label names.
void IndexRecord(Xapian::TermGenerator& terms, simdjson::dom::element record) {
  const std::string title = Text(record["title"]);
  terms.index_text(title, 1, "S");
  terms.increase_termpos();
  terms.index_text(title, 2);
  terms.increase_termpos();
  terms.index_text(Text(record["body"]));
  terms.increase_termpos();
  terms.index_text(Text(record["author"]["name"]));
  terms.increase_termpos();
  std::string labels;
  simdjson::dom::array array;  // a named array: a range-for over value_unsafe() would dangle
  if (record["labels"].get(array)) return;
  for (simdjson::dom::element label : array) {
    labels += Text(label["name"]) + " ";
  }
  terms.index_text(labels);
}

int BareIndex(const IssueGenerator& generator, const Options& options) {
  try {
    Xapian::WritableDatabase db(options.index_dir, Xapian::DB_CREATE_OR_OVERWRITE);
    Xapian::TermGenerator terms;
    terms.set_stemmer(Xapian::Stem("english"));
    simdjson::dom::parser parser;
    std::vector<std::string> batch;
    Clock::duration spent{};
    for (std::int64_t first = 1; first <= options.records; first += kCommitEvery) {
      // Making up the records is not what is measured: a batch is ready before the clock runs.
      batch.clear();
      for (std::int64_t n = first; n < first + kCommitEvery && n <= options.records; ++n) {
        batch.push_back(generator.Record(n));
      }
      const auto started = Clock::now();
      std::int64_t n = first;
      for (const std::string& json : batch) {
        simdjson::dom::element record;
        if (auto error = parser.parse(json).get(record)) {
          std::cerr << "octohub-bench-search: record " << n << ": "
                    << simdjson::error_message(error) << "\n";
          return 1;
        }
        Xapian::Document doc;
        terms.set_document(doc);
        IndexRecord(terms, record);
        const std::string id_term = "Q" + options.source + ":" + std::to_string(n++);
        doc.add_boolean_term(id_term);
        doc.set_data(json);
        db.replace_document(id_term, doc);
      }
      db.commit();
      spent += Clock::now() - started;
    }
    const double seconds = std::chrono::duration<double>(spent).count();
    std::cout << "indexed " << db.get_doccount() << " documents in " << seconds << " s\n";
    return 0;
  } catch (const Xapian::Error& e) {
    std::cerr << "octohub-bench-search: " << e.get_description() << "\n";
    return 1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  CLI::App app{"Records for the search benchmark, and the bare Xapian indexing loop"};
  app.require_subcommand(1);
  app.add_option("--records", options.records, "how many records")->check(CLI::PositiveNumber);
  app.add_option("--sentences", options.sentences, "real text, one sentence a line");
  app.add_option("--source", options.source, "the source name the records belong to");
  auto* records = app.add_subcommand("records", "write the records as COPY rows to stdout");
  auto* bare = app.add_subcommand("bare-index", "index the records with Xapian directly");
  bare->add_option("dir", options.index_dir, "a new Xapian database")->required();
  CLI11_PARSE(app, argc, argv);

  const IssueGenerator generator(options.sentences.empty()
                                     ? std::vector<std::string>()
                                     : octohub::bench::ReadSentences(options.sentences));
  return records->parsed() ? WriteRecords(generator, options) : BareIndex(generator, options);
}
