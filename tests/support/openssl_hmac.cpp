#include "openssl_hmac.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace octohub::testing {

std::string OpensslHmac(const std::string& key, const std::string& message, bool as_base64,
                        bool key_hex) {
  char path[] = "/tmp/octohub-hmac-XXXXXX";
  const int fd = mkstemp(path);
  if (fd < 0) throw std::runtime_error("mkstemp failed");
  close(fd);
  std::ofstream(path, std::ios::binary) << message;
  // The key goes through a file too: no quoting of arbitrary bytes on a command line.
  const std::string key_path = std::string(path) + ".key";
  std::ofstream(key_path, std::ios::binary) << key;
  const std::string command = "openssl dgst -sha256 -mac HMAC -macopt \"" +
                              std::string(key_hex ? "hexkey" : "key") + ":$(cat '" + key_path +
                              "')\" -binary < '" + path + "' | " +
                              (as_base64 ? "base64 -w0" : "od -An -v -tx1 | tr -d ' \\n'");
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("popen failed");
  std::string out;
  char buffer[512];
  while (fgets(buffer, sizeof(buffer), pipe) != nullptr) out += buffer;
  pclose(pipe);
  std::filesystem::remove(path);
  std::filesystem::remove(key_path);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

}  // namespace octohub::testing
