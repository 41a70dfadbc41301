#include "csv_reader.h"

#include <set>
#include <vector>

#include "octohub/core/json_string.h"

namespace octohub::ingest {
namespace {

// Splits the text into records of fields; false when a quoted field never closes.
class CsvScanner {
 public:
  explicit CsvScanner(std::string_view text) : text_(text) {}

  // The next record's fields; false at the end of the text.
  Result<bool> Next(std::vector<std::string>& fields) {
    fields.clear();
    if (pos_ >= text_.size()) return false;
    std::string field;
    bool quoted = false;
    while (true) {
      if (pos_ >= text_.size()) {
        if (quoted) {
          return InvalidArgument("the CSV ends inside a quoted field (a quote is left open)");
        }
        fields.push_back(std::move(field));
        return true;
      }
      const char c = text_[pos_++];
      if (quoted) {
        if (c != '"') {
          field += c;
        } else if (pos_ < text_.size() && text_[pos_] == '"') {
          field += '"';  // a doubled quote stands for one
          ++pos_;
        } else {
          quoted = false;
        }
      } else if (c == '"' && field.empty()) {
        quoted = true;
      } else if (c == ',') {
        fields.push_back(std::move(field));
        field.clear();
      } else if (c == '\n' || c == '\r') {
        if (c == '\r' && pos_ < text_.size() && text_[pos_] == '\n') ++pos_;
        fields.push_back(std::move(field));
        return true;
      } else {
        field += c;
      }
    }
  }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
};

bool Blank(const std::vector<std::string>& fields) {
  return fields.size() == 1 && fields[0].empty();
}

}  // namespace

Result<CsvAsJson> CsvToJsonArray(std::string_view text) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  CsvScanner scanner(text);
  std::vector<std::string> header;
  do {
    auto more = scanner.Next(header);
    if (!more.ok()) return more.status();
    if (!*more) return InvalidArgument("the CSV has no header row");
  } while (Blank(header));
  std::set<std::string_view> names;
  for (std::size_t i = 0; i < header.size(); ++i) {
    if (header[i].empty()) {
      return InvalidArgument("the CSV header leaves column " + std::to_string(i + 1) +
                             " without a name");
    }
    if (!names.insert(header[i]).second) {
      return InvalidArgument("the CSV header names the column \"" + header[i] + "\" twice");
    }
  }
  std::vector<std::string> keys;  // each name as a JSON string, ready to be written
  keys.reserve(header.size());
  for (const auto& name : header) {
    keys.emplace_back();
    AppendJsonString(keys.back(), name);
  }

  CsvAsJson out;
  out.array = "[";
  std::vector<std::string> fields;
  while (true) {
    auto more = scanner.Next(fields);
    if (!more.ok()) return more.status();
    if (!*more) break;
    if (Blank(fields)) continue;
    ++out.rows;
    if (fields.size() != header.size()) {
      ++out.ragged;
      continue;
    }
    out.array += out.array.size() == 1 ? "{" : ",{";
    for (std::size_t i = 0; i < fields.size(); ++i) {
      if (i > 0) out.array += ',';
      out.array += keys[i];
      out.array += ':';
      AppendJsonString(out.array, fields[i]);
    }
    out.array += '}';
  }
  out.array += ']';
  return out;
}

}  // namespace octohub::ingest
