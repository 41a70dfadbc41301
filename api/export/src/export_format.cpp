#include "export_format.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <map>

#include "octohub/core/json_string.h"

namespace octohub::exporting {
namespace {

constexpr std::string_view kFixedColumns[] = {"source",        "id",       "updated_at", "data",
                                              "parent_source", "parent_id"};

bool IsDigits(std::string_view text, std::size_t from, std::size_t count) {
  if (text.size() < from + count) return false;
  return std::all_of(text.begin() + static_cast<std::ptrdiff_t>(from),
                     text.begin() + static_cast<std::ptrdiff_t>(from + count),
                     [](char c) { return c >= '0' && c <= '9'; });
}

bool Contains(std::string_view text, char c) {
  return std::memchr(text.data(), c, text.size()) != nullptr;
}

int Number(std::string_view text, std::size_t from, std::size_t count) {
  int value = 0;
  for (std::size_t i = from; i < from + count; ++i) value = value * 10 + (text[i] - '0');
  return value;
}

}  // namespace

Result<FieldExtractor> FieldExtractor::From(const IndexSpec& index) {
  FieldExtractor extractor;
  auto add = [&](Kind kind, const std::string& name, const std::string& text) -> Status {
    auto pointer = JsonPointer::Parse(text, true);
    if (!pointer.ok()) return pointer.status().WithContext(name);
    extractor.names_.push_back(name);
    extractor.fields_.push_back({kind, *pointer});
    return Status::Ok();
  };
  if (!index.title.empty()) {
    if (Status s = add(Kind::kTitle, "title", index.title); !s.ok()) return s;
  }
  for (const auto& [name, text] : index.facets) {
    if (Status s = add(Kind::kFacet, name, text); !s.ok()) return s;
  }
  for (const auto& [name, text] : index.dates) {
    if (Status s = add(Kind::kDate, name, text); !s.ok()) return s;
  }
  for (const auto& [name, text] : index.numbers) {
    if (Status s = add(Kind::kNumber, name, text); !s.ok()) return s;
  }
  return extractor;
}

void FieldExtractor::Extract(std::string_view data, std::vector<FieldValue>& values) {
  values.assign(fields_.size(), FieldValue{});
  if (fields_.empty()) return;
  padded_.reserve(data.size() + simdjson::SIMDJSON_PADDING);
  padded_.assign(data);
  simdjson::dom::element root;
  if (parser_.parse(padded_.data(), padded_.size(), false).get(root) != simdjson::SUCCESS) return;
  for (std::size_t i = 0; i < fields_.size(); ++i) {
    const Field& field = fields_[i];
    FieldValue& value = values[i];
    switch (field.kind) {
      case Kind::kTitle:
        field.pointer.Visit(root, [&](simdjson::dom::element element) {
          std::string text = ScalarText(element);
          if (text.empty()) return;
          if (!value.text.empty()) value.text += ' ';
          value.text += text;
        });
        if (!value.text.empty()) value.kind = FieldValue::Kind::kString;
        break;
      case Kind::kFacet: {
        std::vector<std::string> found;
        field.pointer.Visit(root, [&](simdjson::dom::element element) {
          std::string text = ScalarText(element);
          if (!text.empty()) found.push_back(std::move(text));
        });
        if (found.size() == 1) {
          value = {FieldValue::Kind::kString, std::move(found[0])};
        } else if (found.size() > 1) {
          value.kind = FieldValue::Kind::kArray;
          value.text = "[";
          for (std::size_t j = 0; j < found.size(); ++j) {
            if (j > 0) value.text += ',';
            AppendJsonString(value.text, found[j]);
          }
          value.text += ']';
        }
        break;
      }
      case Kind::kDate: {
        auto found = field.pointer.Find(root);
        std::string text = found ? ScalarText(*found) : std::string();
        if (!text.empty()) value = {FieldValue::Kind::kString, std::move(text)};
        break;
      }
      case Kind::kNumber: {
        auto found = field.pointer.Find(root);
        if (found && found->is_number()) {
          value = {FieldValue::Kind::kNumber, simdjson::minify(*found)};
        }
        break;
      }
    }
  }
}

ColumnLayout LayOutColumns(const std::vector<std::vector<std::string>>& names_per_source) {
  ColumnLayout layout;
  std::map<std::string, std::size_t> index;
  for (const auto& names : names_per_source) {
    std::vector<std::size_t> columns;
    for (const auto& name : names) {
      const bool fixed = std::find(std::begin(kFixedColumns), std::end(kFixedColumns), name) !=
                         std::end(kFixedColumns);
      const std::string column = fixed ? "fields." + name : name;
      auto [it, added] = index.emplace(column, layout.columns.size());
      if (added) layout.columns.push_back(column);
      columns.push_back(it->second);
    }
    layout.column_of.push_back(std::move(columns));
  }
  return layout;
}

std::string_view OneLineJson(std::string_view data, std::string& scratch) {
  if (!Contains(data, '\n') && !Contains(data, '\r')) return data;
  scratch.resize(data.size());
  std::size_t length = 0;
  if (simdjson::minify(data.data(), data.size(), scratch.data(), length) != simdjson::SUCCESS) {
    // Not reachable for JSON; never emit a line break inside a line all the same.
    scratch.assign(data);
    for (char& c : scratch) c = (c == '\n' || c == '\r') ? ' ' : c;
    return scratch;
  }
  return std::string_view(scratch.data(), length);
}

void AppendJsonRow(std::string& out, const RowView& row, const std::vector<std::string>& names,
                   const std::vector<FieldValue>& values) {
  out += "{\"source\":";
  AppendJsonString(out, row.source);
  out += ",\"id\":";
  AppendJsonString(out, row.id);
  out += ",\"updated_at\":";
  AppendJsonString(out, row.updated_at);
  if (!row.parent_source.empty()) {
    out += ",\"parent\":{\"source\":";
    AppendJsonString(out, row.parent_source);
    out += ",\"id\":";
    AppendJsonString(out, row.parent_id);
    out += '}';
  }
  out += ",\"fields\":{";
  bool first = true;
  for (std::size_t i = 0; i < names.size() && i < values.size(); ++i) {
    const FieldValue& value = values[i];
    if (value.kind == FieldValue::Kind::kMissing) continue;
    if (!first) out += ',';
    first = false;
    AppendJsonString(out, names[i]);
    out += ':';
    if (value.kind == FieldValue::Kind::kString) {
      AppendJsonString(out, value.text);
    } else {
      out += value.text;
    }
  }
  out += "},\"data\":";
  out += row.data;
  out += '}';
}

namespace {

// A plain decimal number ("-5", "+1.5e3"): a spreadsheet reads it as a number, never as a
// formula, so it keeps its sign.
bool IsPlainNumber(std::string_view text) {
  std::size_t i = text.front() == '-' || text.front() == '+' ? 1 : 0;
  bool digits = false, dot = false;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (c >= '0' && c <= '9') {
      digits = true;
    } else if (c == '.' && !dot) {
      dot = true;
    } else if ((c == 'e' || c == 'E') && digits) {
      ++i;
      if (i < text.size() && (text[i] == '-' || text[i] == '+')) ++i;
      if (i == text.size()) return false;
      for (; i < text.size(); ++i) {
        if (text[i] < '0' || text[i] > '9') return false;
      }
      return true;
    } else {
      return false;
    }
  }
  return digits;
}

}  // namespace

bool LooksLikeFormula(std::string_view text) {
  if (text.empty()) return false;
  const char c = text.front();
  if (c == '=' || c == '@' || c == '\t' || c == '\r') return true;
  return (c == '+' || c == '-') && !IsPlainNumber(text);
}

void AppendCsvField(std::string& out, std::string_view text, CsvFormulas formulas) {
  // OWASP's advice against CSV injection: a leading quote makes the cell text.
  if (formulas == CsvFormulas::kDefuse && LooksLikeFormula(text)) {
    std::string defused = "'";
    defused += text;
    AppendCsvField(out, defused, CsvFormulas::kRaw);
    return;
  }
  bool quote = !text.empty() && (text.front() == ' ' || text.back() == ' ');
  for (std::size_t i = 0; i < text.size() && !quote; ++i) {
    const char c = text[i];
    quote = c == ',' || c == '"' || c == '\n' || c == '\r';
  }
  if (!quote) {
    out += text;
    return;
  }
  out += '"';
  std::size_t run = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '"') continue;
    out.append(text.data() + run, i + 1 - run);
    out += '"';
    run = i + 1;
  }
  out.append(text.data() + run, text.size() - run);
  out += '"';
}

void AppendCsvHeader(std::string& out, const std::vector<std::string>& columns, bool with_parent) {
  out += "source,id,updated_at";
  if (with_parent) out += ",parent_source,parent_id";
  for (const auto& column : columns) {
    out += ',';
    AppendCsvField(out, column);
  }
  out += ",data\r\n";
}

void AppendCsvRow(std::string& out, const RowView& row, bool with_parent, std::size_t column_count,
                  const std::vector<std::size_t>& column_of, const std::vector<FieldValue>& values,
                  CsvFormulas formulas) {
  AppendCsvField(out, row.source, formulas);
  out += ',';
  AppendCsvField(out, row.id, formulas);
  out += ',';
  AppendCsvField(out, row.updated_at, formulas);
  if (with_parent) {
    out += ',';
    AppendCsvField(out, row.parent_source, formulas);
    out += ',';
    AppendCsvField(out, row.parent_id, formulas);
  }
  // Few columns per row: find each column's value by scanning rather than building a map.
  for (std::size_t column = 0; column < column_count; ++column) {
    out += ',';
    for (std::size_t f = 0; f < column_of.size() && f < values.size(); ++f) {
      if (column_of[f] == column && values[f].kind != FieldValue::Kind::kMissing) {
        AppendCsvField(out, values[f].text, formulas);
        break;
      }
    }
  }
  out += ',';
  AppendCsvField(out, row.data, formulas);
  out += "\r\n";
}

bool SplitCopyLine(std::string_view line, std::vector<std::string>& columns) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  std::size_t count = 0;
  std::size_t i = 0;
  for (;;) {
    if (columns.size() <= count) columns.emplace_back();
    std::string& column = columns[count++];
    column.clear();
    // The column ends at the next tab; memchr finds it and each backslash at SIMD speed.
    const char* tab = static_cast<const char*>(std::memchr(line.data() + i, '\t', line.size() - i));
    const std::size_t end =
        tab == nullptr ? line.size() : static_cast<std::size_t>(tab - line.data());
    while (i < end) {
      const char* slash = static_cast<const char*>(std::memchr(line.data() + i, '\\', end - i));
      const std::size_t stop =
          slash == nullptr ? end : static_cast<std::size_t>(slash - line.data());
      column.append(line.data() + i, stop - i);
      i = stop;
      if (i == end) break;
      if (++i == end) return false;  // a backslash cannot end a column
      const char escaped = line[i++];
      switch (escaped) {
        case 't':
          column += '\t';
          break;
        case 'n':
          column += '\n';
          break;
        case 'r':
          column += '\r';
          break;
        case 'b':
          column += '\b';
          break;
        case 'f':
          column += '\f';
          break;
        case 'v':
          column += '\v';
          break;
        case 'N':
          return false;  // NULL: no column exported here may be null
        default:
          if (escaped >= '0' && escaped <= '7') {
            int value = escaped - '0';
            for (int digits = 1; digits < 3 && i < end && line[i] >= '0' && line[i] <= '7';
                 ++digits, ++i) {
              value = value * 8 + (line[i] - '0');
            }
            column += static_cast<char>(value);
          } else {
            column += escaped;  // \\ and any other escaped character stand for themselves
          }
      }
    }
    if (tab == nullptr) break;
    i = end + 1;
  }
  columns.resize(count);
  return true;
}

std::optional<std::string> NormalizeTimestamp(std::string_view text) {
  // YYYY-MM-DD
  if (!IsDigits(text, 0, 4) || text.size() < 10 || text[4] != '-' || !IsDigits(text, 5, 2) ||
      text[7] != '-' || !IsDigits(text, 8, 2)) {
    return std::nullopt;
  }
  const int month = Number(text, 5, 2), day = Number(text, 8, 2);
  if (month < 1 || month > 12 || day < 1 || day > 31) return std::nullopt;
  if (text.size() == 10) return std::string(text) + "T00:00:00Z";
  // THH:MM[:SS[.fraction]]
  if ((text[10] != 'T' && text[10] != 't' && text[10] != ' ') || !IsDigits(text, 11, 2) ||
      text.size() < 16 || text[13] != ':' || !IsDigits(text, 14, 2)) {
    return std::nullopt;
  }
  if (Number(text, 11, 2) > 23 || Number(text, 14, 2) > 59) return std::nullopt;
  std::size_t i = 16;
  if (i < text.size() && text[i] == ':') {
    if (!IsDigits(text, i + 1, 2) || Number(text, i + 1, 2) > 60) return std::nullopt;
    i += 3;
    if (i < text.size() && (text[i] == '.' || text[i] == ',')) {
      std::size_t digits = 0;
      while (i + 1 + digits < text.size() && IsDigits(text, i + 1 + digits, 1)) ++digits;
      if (digits == 0 || digits > 9) return std::nullopt;
      i += 1 + digits;
    }
  }
  std::string out(text.substr(0, i));
  out[10] = 'T';
  std::string_view zone = text.substr(i);
  if (zone.empty()) return out + "Z";
  if (zone == "Z" || zone == "z") return out + "Z";
  // ±HH[:MM] or ±HHMM
  if ((zone[0] != '+' && zone[0] != '-') || !IsDigits(zone, 1, 2) || Number(zone, 1, 2) > 23) {
    return std::nullopt;
  }
  if (zone.size() == 3) return out + std::string(zone) + ":00";
  if (zone.size() == 6 && zone[3] == ':' && IsDigits(zone, 4, 2) && Number(zone, 4, 2) < 60) {
    return out + std::string(zone);
  }
  if (zone.size() == 5 && IsDigits(zone, 3, 2) && Number(zone, 3, 2) < 60) {
    return out + std::string(zone.substr(0, 3)) + ":" + std::string(zone.substr(3));
  }
  return std::nullopt;
}

}  // namespace octohub::exporting
