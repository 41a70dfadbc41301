#include "octohub/core/secrets.h"

#include <catch2/catch.hpp>

using octohub::RedactUrl;
using octohub::SecretScrubber;

TEST_CASE("the auth query parameter's value is hidden wherever a URL appears", "[unit]") {
  SecretScrubber scrubber;
  scrubber.AddQueryParam("api_key");
  CHECK(scrubber.Scrub("page 2 (https://api.example/v1?api_key=s3cr%21t&page=2): HTTP 500") ==
        "page 2 (https://api.example/v1?api_key=***&page=2): HTTP 500");
  CHECK(scrubber.Scrub("GET https://a.example/x?page=1&api_key=abc") ==
        "GET https://a.example/x?page=1&api_key=***");
  // Two URLs in one message, and a parameter whose name only ends the same way.
  CHECK(scrubber.Scrub("\"https://a/?api_key=1\" then \"https://a/?my_api_key=2&api_key=3\"") ==
        "\"https://a/?api_key=***\" then \"https://a/?my_api_key=2&api_key=***\"");
  CHECK(scrubber.Scrub("no url here") == "no url here");
}

TEST_CASE("revealed secret values are hidden in any text, the longest first", "[unit]") {
  SecretScrubber scrubber;
  scrubber.AddValue("tok");
  scrubber.AddValue("token-123");
  scrubber.AddValue("ab");  // too short to hide without hiding ordinary words
  CHECK(scrubber.Scrub("upstream said: bad token-123 (tok)") == "upstream said: bad *** (***)");
  CHECK(scrubber.Scrub("about ab") == "about ab");
  CHECK(scrubber.Scrub("tok-tok") == "***-***");
}

TEST_CASE("the user information of a URL is hidden", "[unit]") {
  CHECK(RedactUrl("https://user:pa55@api.example:8443/v1?x=1") ==
        "https://***@api.example:8443/v1?x=1");
  CHECK(RedactUrl("https://api.example/v1/users/@me") == "https://api.example/v1/users/@me");
  CHECK(RedactUrl("https://api.example/v1?key=k", "key") == "https://api.example/v1?key=***");
  CHECK(RedactUrl("https://api.example/v1") == "https://api.example/v1");
  CHECK(RedactUrl("failed: http://u:p@h/ and ftp://x@y") ==
        "failed: http://***@h/ and ftp://***@y");
}
