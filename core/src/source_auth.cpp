// "auth" of sources and targets: every type, secrets literal or from the environment.
#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include "source_spec_parts.h"

namespace octohub {
namespace json = boost::json;
namespace {

void ParseOAuth2(DocumentChecker& c, const json::object& a, OAuth2Spec& oauth2) {
  const std::string at = "/auth";
  c.RejectUnknown(
      a, at,
      {"type", "token_url", "grant_type", "client_id", "client_secret", "client_secret_env",
       "refresh_token", "refresh_token_env", "scope", "client_auth"});
  oauth2.token_url = c.String(a, "token_url", at, true).value_or("");
  if (!oauth2.token_url.empty()) {
    auto url = boost::urls::parse_absolute_uri(oauth2.token_url);
    if (!url || (url->scheme() != "http" && url->scheme() != "https") || url->host().empty()) {
      c.Fail(at + "/token_url", "must be an absolute http:// or https:// URL");
    }
  }
  const std::string grant = c.String(a, "grant_type", at, false).value_or("client_credentials");
  if (grant == "refresh_token") {
    oauth2.grant = OAuth2Spec::Grant::kRefreshToken;
  } else if (grant != "client_credentials") {
    c.Fail(at + "/grant_type", "must be client_credentials or refresh_token");
  }
  oauth2.client_id = c.String(a, "client_id", at, true).value_or("");
  oauth2.client_secret = c.SecretField(a, "client_secret", at);
  const bool refreshing = oauth2.grant == OAuth2Spec::Grant::kRefreshToken;
  oauth2.refresh_token = c.SecretField(a, "refresh_token", at, refreshing);
  if (!refreshing && (a.contains("refresh_token") || a.contains("refresh_token_env"))) {
    c.Fail(at + "/refresh_token", "is only used with \"grant_type\": \"refresh_token\"");
  }
  oauth2.scope = c.String(a, "scope", at, false).value_or("");
  const std::string client_auth = c.String(a, "client_auth", at, false).value_or("basic");
  if (client_auth == "body") {
    oauth2.client_auth = OAuth2Spec::ClientAuth::kBody;
  } else if (client_auth != "basic") {
    c.Fail(at + "/client_auth", "must be basic or body");
  }
}

json::object SecretToJson(const Secret& s, const std::string& key, bool redact) {
  json::object out;
  if (!s.env.empty())
    out[key + "_env"] = s.env;
  else
    out[key] = redact ? std::string("***") : s.value;
  return out;
}

void AddSecret(json::object& out, const Secret& s, const std::string& key, bool redact) {
  for (auto& kv : SecretToJson(s, key, redact)) out[kv.key()] = kv.value();
}

}  // namespace

namespace source_parts {

void ParseAuth(DocumentChecker& c, const json::object& o, AuthSpec& auth, bool allow_oauth2) {
  const json::value* v = o.if_contains("auth");
  if (v == nullptr) return;
  const json::object* a = c.Object(*v, "/auth");
  if (a == nullptr) return;
  auto type = c.String(*a, "type", "/auth", true).value_or("none");
  if (type == "none") {
    c.RejectUnknown(*a, "/auth", {"type"});
  } else if (type == "bearer") {
    auth.type = AuthSpec::Type::kBearer;
    c.RejectUnknown(*a, "/auth", {"type", "token", "token_env"});
    auth.token = c.SecretField(*a, "token", "/auth");
  } else if (type == "basic") {
    auth.type = AuthSpec::Type::kBasic;
    c.RejectUnknown(*a, "/auth", {"type", "username", "username_env", "password", "password_env"});
    auth.username = c.SecretField(*a, "username", "/auth");
    auth.password = c.SecretField(*a, "password", "/auth");
  } else if (type == "header" || type == "query") {
    auth.type = type == "header" ? AuthSpec::Type::kHeader : AuthSpec::Type::kQuery;
    c.RejectUnknown(*a, "/auth", {"type", "name", "value", "value_env"});
    auth.name = c.String(*a, "name", "/auth", true).value_or("");
    if (a->contains("name") && auth.name.empty()) c.Fail("/auth/name", "must not be empty");
    auth.value = c.SecretField(*a, "value", "/auth");
  } else if (type == "oauth2" && allow_oauth2) {
    auth.type = AuthSpec::Type::kOAuth2;
    ParseOAuth2(c, *a, auth.oauth2);
  } else if (type == "oauth2") {
    c.Fail("/auth/type", "oauth2 is available for sources; use bearer, basic, header or query");
  } else {
    c.Fail("/auth/type", allow_oauth2 ? "must be one of none, bearer, basic, header, query, oauth2"
                                      : "must be one of none, bearer, basic, header, query");
  }
}

}  // namespace source_parts

AuthSpec ParseAuthMember(const json::object& document, std::vector<FieldError>& errors) {
  DocumentChecker c;
  AuthSpec auth;
  source_parts::ParseAuth(c, document, auth, /*allow_oauth2=*/false);
  errors.insert(errors.end(), c.errors.begin(), c.errors.end());
  return auth;
}

json::object AuthSpecToJson(const AuthSpec& spec, bool redact) {
  json::object auth;
  switch (spec.type) {
    case AuthSpec::Type::kNone:
      auth["type"] = "none";
      break;
    case AuthSpec::Type::kBearer:
      auth = SecretToJson(spec.token, "token", redact);
      auth["type"] = "bearer";
      break;
    case AuthSpec::Type::kBasic:
      auth = SecretToJson(spec.username, "username", redact);
      AddSecret(auth, spec.password, "password", redact);
      auth["type"] = "basic";
      break;
    case AuthSpec::Type::kHeader:
    case AuthSpec::Type::kQuery:
      auth = SecretToJson(spec.value, "value", redact);
      auth["type"] = spec.type == AuthSpec::Type::kHeader ? "header" : "query";
      auth["name"] = spec.name;
      break;
    case AuthSpec::Type::kOAuth2: {
      const OAuth2Spec& o = spec.oauth2;
      auth["type"] = "oauth2";
      auth["token_url"] = o.token_url;
      const bool refreshing = o.grant == OAuth2Spec::Grant::kRefreshToken;
      auth["grant_type"] = refreshing ? "refresh_token" : "client_credentials";
      auth["client_id"] = o.client_id;
      AddSecret(auth, o.client_secret, "client_secret", redact);
      if (refreshing) AddSecret(auth, o.refresh_token, "refresh_token", redact);
      if (!o.scope.empty()) auth["scope"] = o.scope;
      auth["client_auth"] = o.client_auth == OAuth2Spec::ClientAuth::kBody ? "body" : "basic";
      break;
    }
  }
  return auth;
}

}  // namespace octohub
