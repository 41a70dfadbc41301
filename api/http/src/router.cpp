#include "router.h"

#include <charconv>

namespace octohub::http {
namespace {

std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> out;
  size_t start = 1;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    out.push_back(path.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return out;
}

bool MatchPattern(std::string_view pattern, std::string_view path,
                  std::vector<std::string>& params) {
  auto want = Segments(pattern);
  auto have = Segments(path);
  if (want.size() != have.size()) return false;
  std::vector<std::string> captured;
  for (size_t i = 0; i < want.size(); ++i) {
    if (!want[i].empty() && want[i].front() == '{') {
      std::string value;
      if (have[i].empty() || !PercentDecode(have[i], value, false)) return false;
      captured.push_back(std::move(value));
    } else if (want[i] != have[i]) {
      return false;
    }
  }
  params = std::move(captured);
  return true;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<std::int64_t> ParseIdParam(const std::string& text) {
  std::int64_t id = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return id;
}

bool PercentDecode(std::string_view in, std::string& out, bool plus_is_space) {
  out.clear();
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%') {
      if (i + 2 >= in.size()) return false;
      int hi = HexValue(in[i + 1]);
      int lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (plus_is_space && in[i] == '+') {
      out += ' ';
    } else {
      out += in[i];
    }
  }
  return true;
}

Router::Match Router::Find(std::string_view method, std::string_view path) const {
  Match match;
  for (const auto& route : routes_) {
    std::vector<std::string> params;
    if (route.pattern.find('{') == std::string::npos) {
      if (route.pattern != path) continue;  // a literal path: no splitting, no allocation
    } else if (!MatchPattern(route.pattern, path, params)) {
      continue;
    }
    if (route.method == method) {
      match.route = &route;
      match.params = std::move(params);
      return match;
    }
    match.allowed.push_back(route.method);
  }
  return match;
}

}  // namespace octohub::http
