#include "raw_query.h"

namespace octohub::http {
namespace Http = Pistache::Http;

namespace {

// Explicit instantiation may name private members ([temp.spec.general]/6): this reads the
// parser's input buffer, which Pistache 0.0.5 keeps private with no accessor.
using ParserBuffer = Pistache::ArrayStreamBuf<char>;
using BufferMember = ParserBuffer Http::Private::ParserBase::*;

struct ParserBufferTag {};
BufferMember ParserBufferMemberOf(ParserBufferTag);

template <BufferMember Member>
struct ParserBufferAccess {
  friend BufferMember ParserBufferMemberOf(ParserBufferTag) { return Member; }
};
template struct ParserBufferAccess<&Http::Private::ParserBase::buffer>;

}  // namespace

std::optional<std::string_view> QueryOfRequestLine(std::string_view request) {
  const size_t line_end = request.find("\r\n");
  if (line_end == std::string_view::npos) return std::nullopt;
  const std::string_view line = request.substr(0, line_end);
  const size_t target_start = line.find(' ');
  const size_t version_start = line.rfind(' ');
  if (target_start == std::string_view::npos || version_start <= target_start) return std::nullopt;
  const std::string_view target = line.substr(target_start + 1, version_start - target_start - 1);
  const size_t question = target.find('?');
  if (question == std::string_view::npos) return std::string_view();
  std::string_view query = target.substr(question + 1);
  if (const size_t hash = query.find('#'); hash != std::string_view::npos) {
    query = query.substr(0, hash);
  }
  return query;
}

std::vector<std::pair<std::string_view, std::string_view>> SplitQuery(std::string_view query) {
  std::vector<std::pair<std::string_view, std::string_view>> pairs;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (part.empty()) continue;
    const size_t eq = part.find('=');
    if (eq == std::string_view::npos) {
      pairs.emplace_back(part, std::string_view());
    } else {
      pairs.emplace_back(part.substr(0, eq), part.substr(eq + 1));
    }
  }
  return pairs;
}

std::optional<std::string> RawQueryOf(const Http::ResponseWriter& writer) {
  const BufferMember member = ParserBufferMemberOf(ParserBufferTag{});
  auto peer = writer.peer();
  if (!peer) return std::nullopt;
  auto parser = Http::Handler::getParser(peer);
  if (!parser) return std::nullopt;
  const ParserBuffer& buffer = (*parser).*member;
  if (buffer.begptr() == nullptr) return std::nullopt;
  auto query = QueryOfRequestLine(
      std::string_view(buffer.begptr(), static_cast<size_t>(buffer.endptr() - buffer.begptr())));
  if (!query) return std::nullopt;
  return std::string(*query);
}

}  // namespace octohub::http
