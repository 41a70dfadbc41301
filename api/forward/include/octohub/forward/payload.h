// Request bodies for targets: Mustache templates over records, batches. Pure and
// thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "octohub/core/status.h"
#include "octohub/forward/specs.h"

namespace octohub::forward {

// One record to forward: its JSON text as stored.
struct ForwardRecord {
  std::string source;
  std::string id;
  std::string data;
  // For a change-aware rule: the version before (JSON, absent for a new record) and what
  // changed at the rule's pointers ({"/state": {"from": …, "to": …}}).
  std::optional<std::string> previous;
  std::string changes = "{}";
};

// A Mustache template whose names are JSON Pointers into the record ({{/title}}), or
// `source`, `id`, or `record` (the whole record as JSON). `{{/x}}` that does not close an open
// section is a value; close a section opened by `{{#/x}}` with `{{//x}}`. Double-brace
// values are escaped for a JSON string, triple-brace ones are inserted as they are; objects
// and arrays become their JSON text, a missing value or null renders nothing.
class PayloadTemplate {
 public:
  // kInvalidArgument naming the problem (unclosed section, bad pointer, unknown name).
  static Result<PayloadTemplate> Compile(const std::string& text);

  // record: the record's JSON text. Fails only on a record that is not JSON.
  Result<std::string> Render(std::string_view source, std::string_view id,
                             std::string_view record) const;
  // With the version before it (`previous/…`) and what changed (`changes`).
  Result<std::string> Render(const ForwardRecord& record) const;

  const std::string& text() const { return text_; }

 private:
  std::string text_;       // as the user wrote it
  std::string rewritten_;  // pointer values renamed so that Mustache does not read them as ends
};

// Whether the target's Content-Type (application/json when it sets none) is JSON.
bool SendsJson(const TargetSpec& spec);

// One record's part of a body: its JSON, or the template rendered for it, which must be JSON
// when the target sends JSON or batches (kInvalidArgument with the reason otherwise).
Result<std::string> RenderRecord(const TargetSpec& spec, const PayloadTemplate* compiled,
                                 const ForwardRecord& record);

// The body for rendered parts: the part itself for a batch of 1, else a JSON array.
std::string JoinBatch(const TargetSpec& spec, std::vector<std::string> parts);

// The request body for up to spec.batch records: without a template the record's JSON (batch
// 1) or a JSON array of them; with one the rendered template (batch 1) or a JSON array of the
// renderings (each must then be JSON: kInvalidArgument otherwise).
Result<std::string> BuildBody(const TargetSpec& spec, const PayloadTemplate* compiled,
                              const std::vector<ForwardRecord>& records);

}  // namespace octohub::forward
