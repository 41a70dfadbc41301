// An index in Xapian's in-memory backend, written by the real document mapper and searched by
// the real search, for table-driven tests of search behaviour that need no PostgreSQL.
#pragma once

#include <xapian.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <map>
#include <string>

#include "document_mapper.h"
#include "index_schema.h"
#include "search_run.h"

namespace octohub::indexer {

class MemoryIndex {
 public:
  // Declares a source and its "index" block (SPEC §3), as JSON text.
  void AddSource(const std::string& source, const std::string& index_json) {
    boost::json::object document{{"name", source},
                                 {"url", "http://127.0.0.1:9/"},
                                 {"index", boost::json::parse(index_json)}};
    auto spec = ParseSourceSpec(document);
    INFO(spec.status().ToString());
    REQUIRE(spec.ok());
    auto mapping = CompiledMapping::From(spec->index);
    REQUIRE(mapping.ok());
    mappings_.insert_or_assign(source, *mapping);
    sources_.Set(source, {spec->index.language, spec->index.typos, spec->index.synonyms});
  }

  void Add(const std::string& source, const std::string& id, const boost::json::object& data) {
    auto doc = mapper_.Map(
        RecordRow{source, id, boost::json::serialize(data), "2024-05-01T10:00:00Z", false},
        mappings_.at(source), fields_);
    INFO(doc.status().ToString());
    REQUIRE(doc.ok());
    db_.replace_document(schema::UniqueTerm(source, id), *doc);
    db_.set_metadata(schema::kFieldsKey, fields_.ToJson());
    db_.set_metadata(schema::kSourcesKey, sources_.ToJson());
  }

  Result<SearchResponse> Search(SearchRequest request) {
    if (request.per_page == 20) request.per_page = 100;
    // As the searcher does: a vocabulary of the index as it is now.
    return SearchOnce(db_, request, TypoVocabulary::Build(db_).get());
  }

  SearchResponse SearchOk(SearchRequest request) {
    auto response = Search(std::move(request));
    INFO(response.status().ToString());
    REQUIRE(response.ok());
    return std::move(response).value();
  }

 private:
  Xapian::WritableDatabase db_{std::string(), Xapian::DB_BACKEND_INMEMORY};
  std::map<std::string, CompiledMapping> mappings_;
  schema::FieldRegistry fields_;
  schema::SourceSettings sources_;
  DocumentMapper mapper_;
};

}  // namespace octohub::indexer
