#include "static_assets.h"

#include "octohub/core/content_hash.h"
#include "octohub/web/assets.h"

namespace octohub::api {

std::string ContentTypeFor(std::string_view path) {
  auto ends = [&](std::string_view ext) {
    return path.size() >= ext.size() && path.substr(path.size() - ext.size()) == ext;
  };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".js") || ends(".mjs")) return "text/javascript; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".json")) return "application/json";
  if (ends(".svg")) return "image/svg+xml";
  if (ends(".png")) return "image/png";
  if (ends(".ico")) return "image/x-icon";
  if (ends(".woff2")) return "font/woff2";
  if (ends(".txt")) return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

StaticAssets::StaticAssets() {
  for (const auto& file : web::Assets()) {
    std::string path = "/" + std::string(file.path);
    assets_[path] = {file.content, ContentTypeFor(path),
                     "\"" + ContentHash(file.content).substr(0, 20) + "\""};
  }
}

const StaticAsset* StaticAssets::Find(std::string_view path) const {
  if (path == "/") path = "/index.html";
  auto it = assets_.find(path);
  return it == assets_.end() ? nullptr : &it->second;
}

}  // namespace octohub::api

namespace octohub::api {

std::vector<std::string> StaticAssets::Paths() const {
  std::vector<std::string> out;
  for (const auto& entry : assets_) out.push_back(entry.first);
  return out;
}

}  // namespace octohub::api
