// octohub-bench-api: the data side of tests/bench/ingest/run.sh.
//   serve  pages of issue-like records on loopback: GET /items?page=N -> {"page":N,"items":[...]},
//          then {"items":[]} past the end; prints "port N" and serves until SIGINT/SIGTERM.
//          --format ndjson serves each page as one record a line, --format csv as a header
//          row and one row a record (each top-level member a column, nested values as their
//          JSON text); past the end, an empty body or the header alone.
//   csv    writes the same records as CSV rows "id,data" for PostgreSQL's COPY.
// Pages are rendered once at start, so serving one is a copy and the API is never the
// bottleneck of the benchmark.
#include <pthread.h>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "issue_generator.h"
#include "octohub/api/http.h"

namespace {

using octohub::bench::IssueGenerator;

struct Options {
  std::int64_t records = 200'000;
  std::int64_t page_size = 1'000;
  std::string sentences;
  std::string listen = "127.0.0.1:0";
  std::string csv_path;
  std::string format = "json";
};

// One record's top-level members as CSV cells (nested values as JSON text), RFC 4180 quoting.
std::string CsvRow(const boost::json::object& record, bool header) {
  std::string row;
  for (const auto& member : record) {
    if (!row.empty()) row += ',';
    std::string cell;
    if (header) {
      cell = std::string(member.key());
    } else if (member.value().is_string()) {
      cell = std::string(member.value().get_string());
    } else {
      cell = boost::json::serialize(member.value());
    }
    row += '"';
    for (char c : cell) {
      if (c == '"') row += '"';
      row += c;
    }
    row += '"';
  }
  return row + "\r\n";
}

std::string CsvHeader(const IssueGenerator& generator) {
  return CsvRow(boost::json::parse(generator.Record(1)).as_object(), true);
}

std::vector<std::string> RenderPages(const IssueGenerator& generator, const Options& options) {
  std::vector<std::string> pages;
  const std::string header = options.format == "csv" ? CsvHeader(generator) : "";
  for (std::int64_t first = 1; first <= options.records; first += options.page_size) {
    const std::int64_t page = static_cast<std::int64_t>(pages.size()) + 1;
    std::string body =
        options.format == "json" ? "{\"page\":" + std::to_string(page) + ",\"items\":[" : header;
    for (std::int64_t n = first; n < first + options.page_size && n <= options.records; ++n) {
      if (options.format == "ndjson") {
        body += generator.Record(n) + "\n";
      } else if (options.format == "csv") {
        body += CsvRow(boost::json::parse(generator.Record(n)).as_object(), false);
      } else {
        if (n != first) body += ',';
        body += generator.Record(n);
      }
    }
    if (options.format == "json") body += "]}";
    pages.push_back(std::move(body));
  }
  return pages;
}

int Serve(const IssueGenerator& generator, const Options& options) {
  const std::vector<std::string> pages = RenderPages(generator, options);
  const std::string empty = options.format == "json"  ? "{\"items\":[]}"
                            : options.format == "csv" ? CsvHeader(generator)
                                                      : "";
  auto page_of = [&](const octohub::api::RequestView& request) -> const std::string& {
    for (const auto& [name, value] : request.query) {
      if (name != "page") continue;
      char* end = nullptr;
      const long long page = std::strtoll(value.c_str(), &end, 10);
      if (*end == '\0' && page >= 1 && page <= static_cast<long long>(pages.size())) {
        return pages[static_cast<size_t>(page - 1)];
      }
    }
    return empty;
  };
  // Signals are blocked before the server starts its threads, so only sigwait sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  octohub::api::HttpServer server(
      {.listen = options.listen, .reactor_threads = 1, .worker_threads = 1},
      {{"GET", "/items",
        [&](const octohub::api::RequestView& request) {
          return octohub::api::Reply{200, "application/json", page_of(request), {}};
        },
        /*on_worker=*/false}});
  if (auto status = server.Start(); !status.ok()) {
    std::cerr << "octohub-bench-api: " << status.ToString() << "\n";
    return 1;
  }
  std::cout << "port " << server.port() << std::endl;
  int signal = 0;
  sigwait(&signals, &signal);
  server.Shutdown();
  return 0;
}

// CSV quoting: the field in double quotes, inner double quotes doubled; nothing else is special.
int WriteCsv(const IssueGenerator& generator, const Options& options) {
  std::ofstream out(options.csv_path, std::ios::binary);
  std::size_t bytes = 0;
  for (std::int64_t n = 1; n <= options.records && out; ++n) {
    const std::string record = generator.Record(n);
    bytes += record.size();
    out << n << ",\"";
    for (char c : record) {
      if (c == '"') out << '"';
      out << c;
    }
    out << "\"\n";
  }
  out.close();
  if (!out) {
    std::cerr << "octohub-bench-api: cannot write " << options.csv_path << "\n";
    return 1;
  }
  std::cout << "records " << options.records << " average_bytes "
            << bytes / static_cast<std::size_t>(std::max<std::int64_t>(options.records, 1))
            << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  CLI::App app{"Pages of issue-like records for the ingest benchmark"};
  app.require_subcommand(1);
  app.add_option("--records", options.records, "how many records")->check(CLI::PositiveNumber);
  app.add_option("--page-size", options.page_size, "records a page")->check(CLI::PositiveNumber);
  app.add_option("--sentences", options.sentences, "real text, one sentence a line");
  auto* serve = app.add_subcommand("serve", "serve the records as pages over HTTP");
  serve->add_option("--listen", options.listen, "host:port (port 0 picks a free one)");
  serve->add_option("--format", options.format, "json, ndjson or csv")
      ->check(CLI::IsMember({"json", "ndjson", "csv"}));
  auto* csv = app.add_subcommand("csv", "write the records as CSV rows id,data");
  csv->add_option("file", options.csv_path, "where to write")->required();
  CLI11_PARSE(app, argc, argv);

  const IssueGenerator generator(options.sentences.empty()
                                     ? std::vector<std::string>()
                                     : octohub::bench::ReadSentences(options.sentences));
  return serve->parsed() ? Serve(generator, options) : WriteCsv(generator, options);
}
