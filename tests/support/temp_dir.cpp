#include "temp_dir.h"

#include <stdlib.h>

#include <fstream>
#include <stdexcept>

namespace octohub::testing {

TempDir::TempDir() {
  // Short paths: PostgreSQL's socket path inside a data dir must stay under 108 bytes.
  std::string pattern = "/tmp/oht-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
  std::filesystem::permissions(path_, std::filesystem::perms(0755));
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::filesystem::path TempDir::Write(const std::string& name, const std::string& text) const {
  auto file = path_ / name;
  std::ofstream(file) << text;
  return file;
}

}  // namespace octohub::testing
