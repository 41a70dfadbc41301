// The web UI served from memory (not Pistache's serveFile, which leaks descriptors on
// aborted downloads and sends no Content-Type for html/js/css). Private to api/.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace octohub::api {

struct StaticAsset {
  std::string_view content;
  std::string content_type;
  std::string etag;  // quoted strong ETag of the content
};

class StaticAssets {
 public:
  StaticAssets();  // indexes web::Assets()
  // "/" maps to "/index.html"; nullptr when there is no such file.
  const StaticAsset* Find(std::string_view path) const;
  std::vector<std::string> Paths() const;  // "/index.html", "/app.js", ...

 private:
  std::map<std::string, StaticAsset, std::less<>> assets_;
};

std::string ContentTypeFor(std::string_view path);

}  // namespace octohub::api
