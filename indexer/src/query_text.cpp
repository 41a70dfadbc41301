#include "query_text.h"

#include <algorithm>
#include <array>

namespace octohub::indexer {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool IsAsciiLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
// Letters, digits and every byte of a multi-byte UTF-8 character: what a word is made of.
bool IsWordByte(char c) {
  return IsAsciiLetter(c) || IsDigit(c) || c == '_' || (static_cast<unsigned char>(c) & 0x80);
}
bool IsOperator(std::string_view token) {
  static constexpr std::array<std::string_view, 6> kOperators = {"AND", "OR",   "NOT",
                                                                 "XOR", "NEAR", "ADJ"};
  const std::string_view head = token.substr(0, token.find('/'));  // NEAR/3, ADJ/2
  return std::find(kOperators.begin(), kOperators.end(), head) != kOperators.end();
}

// Skips a quoted phrase starting at q[at] == '"'; returns the offset after it.
std::size_t SkipPhrase(std::string_view q, std::size_t at) {
  const std::size_t close = q.find('"', at + 1);
  return close == std::string_view::npos ? q.size() : close + 1;
}

// Skips a bracketed group starting at q[at] == '('; returns the offset after it.
std::size_t SkipGroup(std::string_view q, std::size_t at) {
  int depth = 0;
  for (std::size_t i = at; i < q.size(); ++i) {
    if (q[i] == '"') {
      i = SkipPhrase(q, i) - 1;
    } else if (q[i] == '(') {
      ++depth;
    } else if (q[i] == ')' && --depth == 0) {
      return i + 1;
    }
  }
  return q.size();
}

}  // namespace

QueryText ReadQueryText(std::string_view q) {
  QueryText text;
  std::size_t at = 0;
  while (at < q.size()) {
    const char c = q[at];
    if (IsSpace(c) || c == '(' || c == ')' || c == '+' || c == '-') {
      ++at;
      continue;
    }
    if (c == '"') {
      at = SkipPhrase(q, at);
      continue;
    }
    std::size_t end = at;
    while (end < q.size() && !IsSpace(q[end]) && q[end] != '(' && q[end] != ')' && q[end] != '"') {
      ++end;
    }
    const std::string_view token = q.substr(at, end - at);
    // name:value (or name:"phrase", name:(group)); a URL's "http://" is not a field.
    const std::size_t colon = token.find(':');
    if (colon != std::string_view::npos && colon > 0 && IsAsciiLetter(token[0]) &&
        std::all_of(token.begin(), token.begin() + static_cast<std::ptrdiff_t>(colon),
                    [](char ch) { return IsAsciiLetter(ch) || IsDigit(ch) || ch == '_'; }) &&
        token.substr(colon + 1, 2) != "//") {
      const bool value_follows =
          colon + 1 < token.size() || (end < q.size() && (q[end] == '"' || q[end] == '('));
      if (value_follows) {
        text.fields.emplace_back(token.substr(0, colon));
        at = end;
        if (colon + 1 == token.size()) at = q[end] == '"' ? SkipPhrase(q, end) : SkipGroup(q, end);
        continue;
      }
    }
    at = end;
    if (IsOperator(token)) continue;
    // A word, or words joined by "-", "/", "+" or "." (not a decimal point): "qml-module-org".
    const std::size_t token_begin = end - token.size();
    std::vector<std::size_t> joints;
    bool readable = true;
    for (std::size_t i = 0; i < token.size() && readable; ++i) {
      const char ch = token[i];
      if (IsWordByte(ch)) continue;
      const bool between =
          i > 0 && i + 1 < token.size() && IsWordByte(token[i - 1]) && IsWordByte(token[i + 1]);
      if (ch == '.' && between && IsDigit(token[i - 1]) && IsDigit(token[i + 1])) continue;
      readable = between && (ch == '-' || ch == '/' || ch == '.' || ch == '+');
      if (readable) joints.push_back(token_begin + i);
    }
    if (!readable) continue;
    std::size_t part_begin = token_begin;
    joints.push_back(end);
    for (const std::size_t joint : joints) {
      const std::string_view part = q.substr(part_begin, joint - part_begin);
      const bool number =
          std::all_of(part.begin(), part.end(), [](char ch) { return IsDigit(ch) || ch == '.'; });
      text.words.push_back({part_begin, joint, number});
      part_begin = joint + 1;
    }
    joints.pop_back();
    text.joints.insert(text.joints.end(), joints.begin(), joints.end());
  }
  std::size_t covered = text.joints.size();
  for (const QueryWord& word : text.words) covered += word.end - word.begin;
  text.only_words =
      text.fields.empty() &&
      covered + static_cast<std::size_t>(std::count_if(q.begin(), q.end(), IsSpace)) == q.size();
  // The last word: only spaces and closing brackets after it.
  if (!text.words.empty()) {
    const std::size_t after = text.words.back().end;
    text.words.back().last = q.find_first_not_of(" \t\r\n)", after) == std::string_view::npos;
  }
  return text;
}

std::string SplitCompounds(std::string_view q, const QueryText& read) {
  std::string split(q);
  for (const std::size_t joint : read.joints) split[joint] = ' ';
  return split;
}

}  // namespace octohub::indexer
