// `octohub export`: the same export as GET /api/v1/export, written to a file or stdout by
// this process, straight from PostgreSQL.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "commands.h"
#include "octohub/export/export.h"
#include "octohub/indexer/indexer.h"
#include "octohub/indexer/searcher.h"
#include "runtime.h"

namespace octohub::hub {
namespace {

class FileBody final : public BodyWriter {
 public:
  explicit FileBody(std::FILE* file) : file_(file) {}
  bool Write(std::string_view piece) override {
    return std::fwrite(piece.data(), 1, piece.size(), file_) == piece.size();
  }

 private:
  std::FILE* file_;
};

}  // namespace

int RunExport(const GlobalOptions& options, const ExportCommand& command) {
  exporting::ExportRequest request;
  auto format = exporting::ParseExportFormat(command.format);
  if (!format.ok()) return Fail(format.status());
  request.format = *format;
  for (const auto& source : command.sources) exporting::AddExportSources(request.sources, source);
  request.q = command.query;
  if (!command.since.empty()) {
    auto since = exporting::ParseExportSince(command.since);
    if (!since.ok()) return Fail(since.status());
    request.since = *since;
  }
  request.bom = command.bom;
  request.raw_formulas = command.raw_formulas;

  auto runtime = Runtime::Open(options);
  if (!runtime.ok()) return Fail(runtime.status());
  const Database& db = (*runtime)->db();
  if (!command.query.empty()) {
    // When no `serve` holds the index, bring it up to date first, as `search` does.
    indexer::IndexFollower follower(db, options.index_dir());
    if (follower.Open().ok()) {
      if (auto caught_up = follower.CatchUp(); !caught_up.ok()) return Fail(caught_up.status());
    }
  }
  auto searcher = indexer::OpenSearcher(options.index_dir());
  auto prepared = exporting::Export::Prepare(db, *searcher, std::move(request));
  if (!prepared.ok()) return Fail(prepared.status());

  const bool to_stdout = command.output.empty() || command.output == "-";
  std::FILE* file = to_stdout ? stdout : std::fopen(command.output.c_str(), "wb");
  if (file == nullptr) {
    return Fail(InvalidArgument("cannot write " + command.output + ": " + std::strerror(errno)));
  }
  FileBody body(file);
  Status status = (*prepared)->Run(body);
  const bool closed = to_stdout ? std::fflush(file) == 0 : std::fclose(file) == 0;
  if (status.ok() && !closed) status = Unavailable("cannot finish writing " + command.output);
  if (!status.ok()) {
    if (!to_stdout) std::filesystem::remove(command.output);
    if (status.code() == StatusCode::kCancelled) {
      status = Unavailable("the export could not be written: " + std::string(std::strerror(errno)));
    }
    return Fail(status);
  }
  std::cerr << "octohub: exported " << (*prepared)->rows() << " records"
            << (to_stdout ? "" : " to " + command.output) << "\n";
  return (*runtime)->Close().ok() ? 0 : 1;
}

}  // namespace octohub::hub
