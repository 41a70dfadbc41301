#include <curl/curl.h>

#include <algorithm>
#include <boost/url.hpp>
#include <cctype>
#include <mutex>

#include "octohub/ingest/curl_setup.h"
#include "octohub/ingest/http_fetcher.h"

namespace octohub::ingest {

std::optional<std::string> HttpResponse::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key == name) return value;
  }
  return std::nullopt;
}

std::string UrlOrigin(std::string_view url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return "";
  std::string scheme(parsed->scheme());
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (scheme != "http" && scheme != "https") return "";
  std::string host = parsed->encoded_host().decode();
  std::transform(host.begin(), host.end(), host.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  std::string port(parsed->port());
  if (port.empty()) port = scheme == "https" ? "443" : "80";
  return scheme + "://" + host + ":" + port;
}

namespace {

std::string Trim(std::string_view text) {
  size_t begin = 0, end = text.size();
  while (begin < end && std::isspace(static_cast<unsigned char>(text[begin]))) ++begin;
  while (end > begin && std::isspace(static_cast<unsigned char>(text[end - 1]))) --end;
  return std::string(text.substr(begin, end - begin));
}

class CurlFetcher final : public HttpFetcher {
 public:
  explicit CurlFetcher(CurlFetcherOptions options) : options_(std::move(options)) {
    InitCurlOnce();
    handle_ = curl_easy_init();
  }
  ~CurlFetcher() override { curl_easy_cleanup(handle_); }

  Result<HttpResponse> Fetch(const HttpRequest& request) override {
    if (handle_ == nullptr) return Internal("libcurl could not be initialised");
    // Redirects are followed here, not by libcurl, so that each hop decides afresh whether
    // the credentials may go along (only to their own origin).
    const std::string credentials_origin =
        request.credentials_origin.empty() ? UrlOrigin(request.url) : request.credentials_origin;
    HttpRequest hop = request;
    for (long redirects = 0;; ++redirects) {
      auto response = FetchOnce(hop, UrlOrigin(hop.url) == credentials_origin);
      if (!response.ok()) return response;
      const long status = response->status;
      const bool redirect =
          status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
      char* location = nullptr;
      curl_easy_getinfo(handle_, CURLINFO_REDIRECT_URL, &location);
      if (!redirect || location == nullptr) return response;
      if (redirects >= options_.max_redirects) {
        return Status(StatusCode::kFailedPrecondition,
                      request.method + " " + request.url + ": more than " +
                          std::to_string(options_.max_redirects) + " redirects");
      }
      hop.url = location;
      if (UrlOrigin(hop.url).empty()) {
        return Status(StatusCode::kFailedPrecondition, request.method + " " + request.url +
                                                           ": redirected to a URL that is not "
                                                           "http or https: " +
                                                           hop.url);
      }
      // As browsers and libcurl do: 303 always, and 301/302 after a POST, continue as GET.
      if (status == 303 || ((status == 301 || status == 302) && hop.method == "POST")) {
        hop.method = "GET";
        hop.body.clear();
      }
    }
  }

 private:
  Result<HttpResponse> FetchOnce(const HttpRequest& request, bool with_credentials) {
    // Reset keeps the connection cache, so consecutive pages reuse one connection.
    curl_easy_reset(handle_);
    Transfer transfer{options_.max_body_bytes, {}, false};
    std::string refusal;
    GuardConnections(handle_, &refusal);
    curl_easy_setopt(handle_, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(handle_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(handle_, CURLOPT_USERAGENT, options_.user_agent.c_str());
    curl_easy_setopt(handle_, CURLOPT_ACCEPT_ENCODING, "");  // every encoding libcurl has
    curl_easy_setopt(handle_, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(handle_, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout_s * 1000));
    curl_easy_setopt(handle_, CURLOPT_CONNECTTIMEOUT_MS,
                     std::min(10000L, static_cast<long>(request.timeout_s * 1000)));
    curl_easy_setopt(handle_, CURLOPT_WRITEFUNCTION, &CurlFetcher::OnBody);
    curl_easy_setopt(handle_, CURLOPT_WRITEDATA, &transfer);
    curl_easy_setopt(handle_, CURLOPT_HEADERFUNCTION, &CurlFetcher::OnHeader);
    curl_easy_setopt(handle_, CURLOPT_HEADERDATA, &transfer);
    if (request.stop.stop_possible()) {
      curl_easy_setopt(handle_, CURLOPT_NOPROGRESS, 0L);
      curl_easy_setopt(handle_, CURLOPT_XFERINFOFUNCTION, &CurlFetcher::OnProgress);
      curl_easy_setopt(handle_, CURLOPT_XFERINFODATA, &request.stop);
    }
    if (request.method == "POST") {
      curl_easy_setopt(handle_, CURLOPT_POST, 1L);
      curl_easy_setopt(handle_, CURLOPT_POSTFIELDS, request.body.c_str());
      curl_easy_setopt(handle_, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(request.body.size()));
    } else if (request.method != "GET") {
      curl_easy_setopt(handle_, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    }
    curl_slist* headers = nullptr;
    for (const auto& [name, value] : request.headers) {
      headers = curl_slist_append(headers, (name + ": " + value).c_str());
    }
    if (with_credentials) {
      for (const auto& [name, value] : request.credential_headers) {
        headers = curl_slist_append(headers, (name + ": " + value).c_str());
      }
      if (request.basic_auth) {
        curl_easy_setopt(handle_, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
        curl_easy_setopt(handle_, CURLOPT_USERNAME, request.basic_auth->first.c_str());
        curl_easy_setopt(handle_, CURLOPT_PASSWORD, request.basic_auth->second.c_str());
      }
    }
    curl_easy_setopt(handle_, CURLOPT_HTTPHEADER, headers);
    CURLcode code = curl_easy_perform(handle_);
    curl_slist_free_all(headers);

    if (transfer.too_large) {
      return Status(StatusCode::kResourceExhausted,
                    request.method + " " + request.url + ": the response is larger than " +
                        std::to_string(options_.max_body_bytes) +
                        " bytes (after decompression), the limit --max-page-bytes sets");
    }
    if (code == CURLE_ABORTED_BY_CALLBACK) {
      return Status(StatusCode::kCancelled, request.method + " " + request.url + ": stopped");
    }
    if (!refusal.empty()) {
      return Status(
          StatusCode::kFailedPrecondition,
          request.method + " " + request.url + ": refused by the network guard: " + refusal);
    }
    if (code != CURLE_OK) {
      // Timeouts and connection trouble may pass; a bad certificate or URL will not.
      StatusCode status_code = StatusCode::kUnavailable;
      switch (code) {
        case CURLE_OPERATION_TIMEDOUT:
          status_code = StatusCode::kDeadlineExceeded;
          break;
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        case CURLE_UNSUPPORTED_PROTOCOL:
        case CURLE_URL_MALFORMAT:
          status_code = StatusCode::kFailedPrecondition;
          break;
        default:
          break;
      }
      return Status(status_code,
                    request.method + " " + request.url + ": " + curl_easy_strerror(code));
    }
    curl_easy_getinfo(handle_, CURLINFO_RESPONSE_CODE, &transfer.response.status);
    transfer.response.final_url = request.url;
    return std::move(transfer.response);
  }

  struct Transfer {
    size_t max_body;
    HttpResponse response;
    bool too_large;
  };

  static size_t OnBody(char* data, size_t size, size_t count, void* user) {
    auto* t = static_cast<Transfer*>(user);
    size_t bytes = size * count;
    if (t->response.body.size() + bytes > t->max_body) {
      t->too_large = true;
      return 0;  // aborts the transfer
    }
    t->response.body.append(data, bytes);
    return bytes;
  }

  // Called at least once a second, also while the server is silent.
  static int OnProgress(void* stop, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    return static_cast<const std::stop_token*>(stop)->stop_requested() ? 1 : 0;
  }

  static size_t OnHeader(char* data, size_t size, size_t count, void* user) {
    auto* t = static_cast<Transfer*>(user);
    std::string_view line(data, size * count);
    if (line.rfind("HTTP/", 0) == 0) {
      t->response.headers.clear();  // a new response (after a redirect or 100 Continue)
    } else if (auto colon = line.find(':'); colon != std::string_view::npos) {
      std::string name = Trim(line.substr(0, colon));
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return std::tolower(c); });
      t->response.headers.emplace_back(std::move(name), Trim(line.substr(colon + 1)));
    }
    return size * count;
  }

  CurlFetcherOptions options_;
  CURL* handle_ = nullptr;
};

}  // namespace

std::unique_ptr<HttpFetcher> MakeCurlFetcher(const CurlFetcherOptions& options) {
  return std::make_unique<CurlFetcher>(options);
}

}  // namespace octohub::ingest
