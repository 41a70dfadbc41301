#include "request_framing.h"

#include <catch2/catch.hpp>

using octohub::http::CheckFraming;
using octohub::http::HeadEnd;
using octohub::http::RequestFraming;

namespace {

std::optional<octohub::http::FramingProblem> Check(const std::string& headers,
                                                   RequestFraming* out = nullptr) {
  const std::string head = "POST /api/v1/sources HTTP/1.1\r\nHost: h\r\n" + headers + "\r\n";
  RequestFraming framing;
  auto problem = CheckFraming(head, framing);
  if (out != nullptr) *out = framing;
  return problem;
}

}  // namespace

TEST_CASE("a head's end is found after its blank line", "[unit]") {
  CHECK(HeadEnd("GET / HTTP/1.1\r\nA: b\r\n\r\nbody") == 24u);
  CHECK_FALSE(HeadEnd("GET / HTTP/1.1\r\nA: b\r\n"));
}

TEST_CASE("Content-Length and chunked framing are read from the head", "[unit]") {
  RequestFraming framing;
  CHECK_FALSE(Check("Content-Length: 12\r\n", &framing));
  CHECK(framing.content_length == 12u);
  CHECK_FALSE(framing.chunked);
  CHECK_FALSE(Check("content-length:  7 \r\ncontent-length: 7\r\n", &framing));  // same value
  CHECK(framing.content_length == 7u);
  CHECK_FALSE(Check("Transfer-Encoding: Chunked\r\n", &framing));
  CHECK(framing.chunked);
  CHECK_FALSE(Check("X-Other: value\r\n", &framing));
  CHECK_FALSE(framing.content_length);
}

TEST_CASE("heads that two servers could frame differently are refused", "[unit]") {
  struct Case {
    const char* headers;
    int status;
    const char* says;
  };
  for (const Case& c : {
           Case{"Content-Length: 5\r\nContent-Length: 40\r\n", 400, "disagree"},
           Case{"Content-Length: +5\r\n", 400, "digits only"},
           Case{"Content-Length: 5, 5\r\n", 400, "digits only"},
           Case{"Content-Length: -1\r\n", 400, "digits only"},
           Case{"Content-Length: 99999999999999999999\r\n", 400, "digits only"},
           Case{"Transfer-Encoding : chunked\r\n", 400, "header name"},
           Case{"Content-Length\t: 5\r\n", 400, "header name"},
           Case{"X-A: b\r\n folded\r\n", 400, "line folding"},
           Case{"Transfer-Encoding: gzip, chunked\r\n", 501, "only transfer coding"},
           Case{"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", 400,
                "more than one"},
           Case{"Transfer-Encoding: chunked\r\nContent-Length: 3\r\n", 400, "both"},
       }) {
    INFO(c.headers);
    auto problem = Check(c.headers);
    REQUIRE(problem);
    CHECK(problem->status == c.status);
    CHECK_THAT(problem->detail, Catch::Contains(c.says));
  }
}
