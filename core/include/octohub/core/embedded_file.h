// A file compiled into the binary (migrations, web assets); see cmake/embed_files.cmake.
#pragma once

#include <string_view>
#include <vector>

namespace octohub {

struct EmbeddedFile {
  std::string_view path;     // relative to the folder it was embedded from
  std::string_view content;  // static storage, lives as long as the program
};

}  // namespace octohub
