#include "document_mapper.h"

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <set>
#include <string>

#include "index_schema.h"

namespace octohub::indexer {
namespace {
namespace json = boost::json;

constexpr const char* kIssue =
    R"({"id":42,"title":"Crash on Startup","body":"The fox jumps over running dogs",)"
    R"("labels":[{"name":"bug"},{"name":"Usability"}],"state":"open","n":3})";

IndexSpec IssueMapping(std::string language = "english") {
  IndexSpec spec;
  spec.title = "/title";
  spec.text = {"/body", "/labels/*/name"};
  spec.facets = {{"state", "/state"}};
  spec.numbers = {{"comments", "/n"}};
  spec.language = std::move(language);
  return spec;
}

Xapian::Document MapOk(const IndexSpec& spec, const std::string& data,
                       const std::string& source = "issues", const std::string& id = "42") {
  auto mapping = CompiledMapping::From(spec);
  REQUIRE(mapping.ok());
  DocumentMapper mapper;
  schema::FieldRegistry fields;
  auto doc =
      mapper.Map(RecordRow{source, id, data, "2024-05-01T10:00:00Z", false}, *mapping, fields);
  INFO(doc.status().ToString());
  REQUIRE(doc.ok());
  return std::move(doc).value();
}

std::set<std::string> Terms(const Xapian::Document& doc) {
  std::set<std::string> out;
  for (auto it = doc.termlist_begin(); it != doc.termlist_end(); ++it) out.insert(*it);
  return out;
}

TEST_CASE("A mapped record has its unique and source terms", "[unit]") {
  auto terms = Terms(MapOk(IssueMapping(), kIssue));
  CHECK(terms.count("Qissues:42") == 1);
  CHECK(terms.count("XSissues") == 1);
  CHECK(schema::UniqueTerm("issues", "42") == "Qissues:42");
  CHECK(schema::SourceTerm("issues") == "XSissues");
}

TEST_CASE("Title words are indexed with the S prefix and also unprefixed", "[unit]") {
  auto terms = Terms(MapOk(IssueMapping(), kIssue));
  for (const char* term : {"Scrash", "Son", "Sstartup", "crash", "startup", "ZScrash", "Zcrash"}) {
    INFO(term);
    CHECK(terms.count(term) == 1);
  }
  CHECK(terms.count("Sfox") == 0);
}

TEST_CASE("Text words are indexed with their English stems", "[unit]") {
  auto terms = Terms(MapOk(IssueMapping(), kIssue));
  for (const char* term : {"jumps", "Zjump", "running", "Zrun", "dogs", "Zdog", "fox", "Zfox"}) {
    INFO(term);
    CHECK(terms.count(term) == 1);
  }
  CHECK(terms.count("Zjumps") == 0);
}

TEST_CASE("Words reached through a wildcard pointer are indexed", "[unit]") {
  auto terms = Terms(MapOk(IssueMapping(), kIssue));
  CHECK(terms.count("bug") == 1);
  CHECK(terms.count("usability") == 1);
  CHECK(terms.count("Zusabl") == 1);
  CHECK(terms.count("open") == 0);  // a facet, not text
}

TEST_CASE("With language none no stemmed terms are made", "[unit]") {
  auto terms = Terms(MapOk(IssueMapping("none"), kIssue));
  CHECK(terms.count("jumps") == 1);
  for (const auto& term : terms) CHECK(term.rfind('Z', 0) == std::string::npos);
}

TEST_CASE("The document data holds source, id, title, text, updated_at and fields", "[unit]") {
  Xapian::Document doc = MapOk(IssueMapping(), kIssue);
  json::object data = json::parse(doc.get_data()).as_object();
  CHECK(data.at("source").as_string() == "issues");
  CHECK(data.at("id").as_string() == "42");
  CHECK(data.at("title").as_string() == "Crash on Startup");
  CHECK(data.at("text").as_string() == "The fox jumps over running dogs\nbug Usability");
  CHECK(data.at("updated_at").as_string() == "2024-05-01T10:00:00Z");
  CHECK(json::serialize(data.at("fields")) == R"({"state":"open","comments":3E0})");
  CHECK(doc.get_value(schema::kUpdatedAtSlot) == "2024-05-01T10:00:00Z");
}

TEST_CASE("Missing mapped values leave the title, text and fields empty", "[unit]") {
  Xapian::Document doc = MapOk(IssueMapping(), R"({"id":1,"other":"x"})", "issues", "1");
  CHECK(
      json::serialize(json::parse(doc.get_data())) ==
      R"({"source":"issues","id":"1","title":"","text":"","updated_at":"2024-05-01T10:00:00Z","fields":{}})");
  CHECK(Terms(doc) == std::set<std::string>{"Qissues:1", "XSissues"});
}

TEST_CASE("Record data that is not JSON is an error", "[unit]") {
  auto data = GENERATE(as<std::string>{}, "", "not json", R"({"title":)", "{\"a\":1}}");
  auto mapping = CompiledMapping::From(IssueMapping());
  REQUIRE(mapping.ok());
  DocumentMapper mapper;
  schema::FieldRegistry fields;
  auto doc = mapper.Map(RecordRow{"issues", "1", data, "", false}, *mapping, fields);
  REQUIRE_FALSE(doc.ok());
  CHECK(doc.status().code() == StatusCode::kInvalidArgument);
  CHECK_THAT(doc.status().message(), Catch::StartsWith("record data is not JSON"));
}

TEST_CASE("A unique term for a long id fits Xapian's term limit and stays unique", "[unit]") {
  std::string a(300, 'a');
  std::string b = std::string(299, 'a') + "b";
  std::string term_a = schema::UniqueTerm("issues", a);
  CHECK(term_a.size() <= 245);
  CHECK(term_a.rfind("Qissues:", 0) == 0);
  CHECK(term_a != schema::UniqueTerm("issues", b));
  CHECK(term_a != schema::UniqueTerm("other", a));
}

TEST_CASE("A mapped record with a long id can be given its unique term", "[unit]") {
  std::string id(300, 'x');
  auto terms = Terms(MapOk(IssueMapping(), kIssue, "issues", id));
  for (const auto& term : terms) CHECK(term.size() <= 245);
  CHECK(terms.count(schema::UniqueTerm("issues", id)) == 1);
}

TEST_CASE("Every language a source may name maps a record", "[unit]") {
  for (const auto& language : IndexLanguages()) {
    INFO(language);
    CHECK(Terms(MapOk(IssueMapping(language), kIssue)).count("Qissues:42") == 1);
  }
}

TEST_CASE("A mapping with a bad pointer does not compile", "[unit]") {
  IndexSpec spec = IssueMapping();
  spec.text.push_back("body");
  auto mapping = CompiledMapping::From(spec);
  REQUIRE_FALSE(mapping.ok());
  CHECK(mapping.status().code() == StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace octohub::indexer
