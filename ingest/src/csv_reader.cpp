#include "csv_reader.h"

#include <set>
#include <vector>

#include "octohub/core/json_string.h"

namespace octohub::ingest {
namespace {

// Splits the text into rows of fields. A row's fields are stored end to end in one buffer
// that is reused from row to row, and copied in runs rather than a character at a time:
// the reader sits on the hot path of every CSV page.
class CsvScanner {
 public:
  explicit CsvScanner(std::string_view text) : text_(text) {}

  // Reads the next row; false at the end of the text.
  Result<bool> Next() {
    cells_.clear();
    ends_.clear();
    if (pos_ >= text_.size()) return false;
    while (true) {
      if (pos_ < text_.size() && text_[pos_] == '"') {
        ++pos_;
        if (!ReadQuoted()) {
          return InvalidArgument("the CSV ends inside a quoted field (a quote is left open)");
        }
      }
      // The unquoted rest of the field (all of it, for a field that is not quoted).
      const std::size_t stop = text_.find_first_of(",\r\n", pos_);
      const std::size_t end = stop == std::string_view::npos ? text_.size() : stop;
      cells_.append(text_.data() + pos_, end - pos_);
      ends_.push_back(cells_.size());
      pos_ = end;
      if (pos_ >= text_.size()) return true;
      const char c = text_[pos_++];
      if (c == ',') continue;
      if (c == '\r' && pos_ < text_.size() && text_[pos_] == '\n') ++pos_;
      return true;
    }
  }

  std::size_t size() const { return ends_.size(); }
  std::string_view operator[](std::size_t i) const {
    const std::size_t begin = i == 0 ? 0 : ends_[i - 1];
    return std::string_view(cells_).substr(begin, ends_[i] - begin);
  }
  bool Blank() const { return ends_.size() == 1 && cells_.empty(); }

 private:
  // Copies a quoted field's content up to its closing quote; false when it never closes.
  bool ReadQuoted() {
    while (true) {
      const std::size_t quote = text_.find('"', pos_);
      if (quote == std::string_view::npos) return false;
      cells_.append(text_.data() + pos_, quote - pos_);
      pos_ = quote + 1;
      if (pos_ < text_.size() && text_[pos_] == '"') {
        cells_ += '"';  // a doubled quote stands for one
        ++pos_;
      } else {
        return true;
      }
    }
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  std::string cells_;              // the row's fields, end to end
  std::vector<std::size_t> ends_;  // where each field ends in cells_
};

}  // namespace

Result<CsvAsJson> CsvToJsonArray(std::string_view text) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  CsvScanner scanner(text);
  do {
    auto more = scanner.Next();
    if (!more.ok()) return more.status();
    if (!*more) return InvalidArgument("the CSV has no header row");
  } while (scanner.Blank());
  const std::size_t columns = scanner.size();
  std::vector<std::string> keys;  // each name as a JSON string, ready to be written
  keys.reserve(columns);
  std::set<std::string, std::less<>> names;
  for (std::size_t i = 0; i < columns; ++i) {
    const std::string_view name = scanner[i];
    if (name.empty()) {
      return InvalidArgument("the CSV header leaves column " + std::to_string(i + 1) +
                             " without a name");
    }
    if (!names.emplace(name).second) {
      return InvalidArgument("the CSV header names the column \"" + std::string(name) + "\" twice");
    }
    keys.emplace_back();
    AppendJsonString(keys.back(), name);
  }

  CsvAsJson out;
  out.array.reserve(text.size() + text.size() / 4);
  out.array = "[";
  while (true) {
    auto more = scanner.Next();
    if (!more.ok()) return more.status();
    if (!*more) break;
    if (scanner.Blank()) continue;
    ++out.rows;
    if (scanner.size() != columns) {
      ++out.ragged;
      continue;
    }
    out.array += out.array.size() == 1 ? "{" : ",{";
    for (std::size_t i = 0; i < columns; ++i) {
      if (i > 0) out.array += ',';
      out.array += keys[i];
      out.array += ':';
      AppendJsonString(out.array, scanner[i]);
    }
    out.array += '}';
  }
  out.array += ']';
  return out;
}

}  // namespace octohub::ingest
