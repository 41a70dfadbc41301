// `octohub targets apply|list` and `octohub rules apply|list`.
#include <boost/json.hpp>
#include <fstream>
#include <iostream>
#include <sstream>

#include "commands.h"
#include "octohub/core/document.h"
#include "octohub/forward/spec_stores.h"
#include "octohub/forward/specs.h"
#include "octohub/indexer/searcher.h"
#include "octohub/ingest/ingest.h"
#include "runtime.h"

namespace octohub::hub {
namespace json = boost::json;
namespace {

// Reads every file as one document or a list of them and parses each with `parse`,
// collecting every problem with its file and place. Nothing is saved when anything is wrong.
template <class Spec, class Parse>
bool LoadAll(const std::vector<std::string>& files, const char* what, Parse parse,
             std::vector<Spec>& out) {
  bool ok = true;
  for (const auto& path : files) {
    std::ifstream in(path);
    if (!in) {
      Fail(InvalidArgument(path + ": cannot be read"));
      ok = false;
      continue;
    }
    std::stringstream text;
    text << in.rdbuf();
    const bool json_file = path.size() >= 5 && path.compare(path.size() - 5, 5, ".json") == 0;
    auto document = ParseDocument(text.str(), json_file ? "json" : "yaml");
    if (!document.ok()) {
      Fail(document.status().WithContext(path));
      ok = false;
      continue;
    }
    std::vector<FieldError> errors;
    auto add = [&](const json::value& value, const std::string& prefix) {
      auto spec = parse(value);
      if (spec.ok()) {
        out.push_back(*spec);
        return;
      }
      for (const auto& e : spec.status().field_errors())
        errors.push_back({prefix + e.pointer, e.reason});
    };
    if (document->is_array()) {
      const auto& items = document->get_array();
      for (size_t i = 0; i < items.size(); ++i) add(items[i], "/" + std::to_string(i));
    } else {
      add(*document, "");
    }
    if (!errors.empty()) {
      Fail(InvalidArgument(path + ": invalid " + what, errors));
      ok = false;
    }
  }
  return ok;
}

const char* SavedWord(forward::Saved saved) {
  return saved == forward::Saved::kCreated   ? "created"
         : saved == forward::Saved::kUpdated ? "updated"
                                             : "unchanged";
}

}  // namespace

int RunTargetsApply(const GlobalOptions& options, const std::vector<std::string>& files) {
  std::vector<forward::TargetSpec> specs;
  if (!LoadAll(files, "target", forward::ParseTargetSpec, specs)) return 1;
  auto runtime = Runtime::Open(options);
  if (!runtime.ok()) return Fail(runtime.status());
  forward::TargetStore store((*runtime)->db());
  for (const auto& spec : specs) {
    auto saved = store.Save(spec, false);
    if (!saved.ok()) return Fail(saved.status());
    std::cout << "target " << spec.name << " " << SavedWord(*saved) << "\n";
  }
  return (*runtime)->Close().ok() ? 0 : 1;
}

int RunTargetsList(const GlobalOptions& options, bool as_json) {
  auto runtime = Runtime::Open(options);
  if (!runtime.ok()) return Fail(runtime.status());
  auto targets = forward::TargetStore((*runtime)->db()).List();
  if (!targets.ok()) return Fail(targets.status());
  json::array out;
  for (const auto& spec : *targets) {
    if (as_json) {
      out.push_back(forward::TargetSpecToJson(spec, true));
    } else {
      std::cout << spec.name << "\t" << spec.method << " " << spec.url << "\tbatch " << spec.batch
                << "\n";
    }
  }
  if (as_json) std::cout << json::serialize(out) << "\n";
  return (*runtime)->Close().ok() ? 0 : 1;
}

int RunRulesApply(const GlobalOptions& options, const std::vector<std::string>& files) {
  std::vector<forward::RuleSpec> specs;
  if (!LoadAll(files, "rule", forward::ParseRuleSpec, specs)) return 1;
  auto runtime = Runtime::Open(options);
  if (!runtime.ok()) return Fail(runtime.status());
  auto searcher = indexer::OpenSearcher(options.index_dir());
  for (const auto& spec : specs) {
    auto saved = forward::SaveRule((*runtime)->db(), *searcher, spec, false);
    if (!saved.ok()) return Fail(saved.status());
    std::cout << "rule " << spec.name << " " << SavedWord(saved->saved);
    if (saved->forward_id) {
      std::cout << " (backfill: " << saved->records << " records in " << saved->deliveries
                << " deliveries)";
    }
    std::cout << "\n";
  }
  return (*runtime)->Close().ok() ? 0 : 1;
}

int RunRulesList(const GlobalOptions& options, bool as_json) {
  auto runtime = Runtime::Open(options);
  if (!runtime.ok()) return Fail(runtime.status());
  auto rules = forward::RuleStore((*runtime)->db()).List();
  if (!rules.ok()) return Fail(rules.status());
  json::array out;
  for (const auto& rule : *rules) {
    if (as_json) {
      out.push_back(forward::RuleSpecToJson(rule.spec));
    } else {
      std::cout << rule.spec.name << "\t" << (rule.spec.enabled ? "enabled" : "disabled") << "\t-> "
                << rule.spec.target << "\tq=" << rule.spec.q
                << (rule.spec.source.empty() ? "" : " source=" + rule.spec.source) << "\n";
    }
  }
  if (as_json) std::cout << json::serialize(out) << "\n";
  return (*runtime)->Close().ok() ? 0 : 1;
}

}  // namespace octohub::hub
