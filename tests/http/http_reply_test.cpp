#include "http_reply.h"

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <string>

namespace octohub::http {
namespace {
namespace json = boost::json;

json::object BodyOf(const Reply& reply) { return json::parse(reply.body).as_object(); }

TEST_CASE("A problem reply has type, title, status and detail as problem+json", "[unit]") {
  Reply reply = ProblemReply(404, "no source \"x\"");
  CHECK(reply.status == 404);
  CHECK(reply.content_type == "application/problem+json");
  json::object body = BodyOf(reply);
  CHECK(body.at("type").as_string() == "about:blank");
  CHECK(body.at("title").as_string() == "Not Found");
  CHECK(body.at("status").as_int64() == 404);
  CHECK(body.at("detail").as_string() == "no source \"x\"");
  CHECK_FALSE(body.contains("errors"));
}

TEST_CASE("A problem reply lists field errors with pointer and reason", "[unit]") {
  Reply reply = ProblemReply(422, "invalid source",
                             {{"/name", "is required"}, {"/pagination/size", "must be a number"}});
  json::object body = BodyOf(reply);
  CHECK(body.at("title").as_string() == "Unprocessable Content");
  CHECK(json::serialize(body.at("errors")) ==
        R"([{"pointer":"/name","reason":"is required"},)"
        R"({"pointer":"/pagination/size","reason":"must be a number"}])");
}

TEST_CASE("Problem titles follow the HTTP status", "[unit]") {
  auto [status, title] = GENERATE(table<int, std::string>({{400, "Bad Request"},
                                                           {405, "Method Not Allowed"},
                                                           {409, "Conflict"},
                                                           {429, "Too Many Requests"},
                                                           {500, "Internal Server Error"},
                                                           {502, "Internal Server Error"},
                                                           {503, "Service Unavailable"},
                                                           {418, "Error"}}));
  CHECK(BodyOf(ProblemReply(status, "d")).at("title").as_string() == title);
}

TEST_CASE("Each status code maps to its HTTP status", "[unit]") {
  auto [code, http] = GENERATE(table<StatusCode, int>({
      {StatusCode::kOk, 200},
      {StatusCode::kInvalidArgument, 400},
      {StatusCode::kNotFound, 404},
      {StatusCode::kAlreadyExists, 409},
      {StatusCode::kFailedPrecondition, 409},
      {StatusCode::kUnavailable, 503},
      {StatusCode::kDeadlineExceeded, 504},
      {StatusCode::kResourceExhausted, 429},
      {StatusCode::kCancelled, 499},
      {StatusCode::kInternal, 500},
  }));
  CHECK(HttpStatusFor(code) == http);
}

TEST_CASE("An invalid argument with field errors is a 422 listing them", "[unit]") {
  Reply reply = ReplyForStatus(InvalidArgument("invalid source", {{"/url", "must be http"}}));
  CHECK(reply.status == 422);
  json::object body = BodyOf(reply);
  CHECK(body.at("status").as_int64() == 422);
  CHECK(body.at("detail").as_string() == "invalid source");
  CHECK(body.at("errors").as_array().size() == 1);
  CHECK(body.at("errors").at(0).at("pointer").as_string() == "/url");
}

TEST_CASE("Statuses without field errors reply with their mapped status and message", "[unit]") {
  auto [status, http] = GENERATE(table<Status, int>({
      {InvalidArgument("\"per_page\" must be an integer"), 400},
      {NotFound("no such record"), 404},
      {Unavailable("index not ready"), 503},
      {Internal("boom"), 500},
  }));
  Reply reply = ReplyForStatus(status);
  CHECK(reply.status == http);
  CHECK(reply.content_type == "application/problem+json");
  CHECK(BodyOf(reply).at("detail").as_string() == status.message());
  CHECK_FALSE(BodyOf(reply).contains("errors"));
}

TEST_CASE("A JSON reply serializes its body as application/json", "[unit]") {
  Reply reply = JsonReply(201, json::object{{"name", "issues"}, {"n", 2}});
  CHECK(reply.status == 201);
  CHECK(reply.content_type == "application/json");
  CHECK(reply.body == R"({"name":"issues","n":2})");
}

}  // namespace
}  // namespace octohub::http
