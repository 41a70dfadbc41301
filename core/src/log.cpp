#include "octohub/core/log.h"

#include <fmt/chrono.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <boost/json/serialize.hpp>
#include <chrono>
#include <memory>

namespace octohub::log {
namespace {

// spdlog only moves finished lines to stderr (thread-safe, unbuffered); the JSON is ours so
// that every field is escaped correctly.
spdlog::logger& Logger() {
  static const std::shared_ptr<spdlog::logger> kLogger = [] {
    auto logger = std::make_shared<spdlog::logger>(
        "octohub", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    logger->set_pattern("%v");
    logger->set_level(spdlog::level::info);
    logger->flush_on(spdlog::level::trace);
    return logger;
  }();
  return *kLogger;
}

spdlog::level::level_enum ToSpdlog(Level level) {
  switch (level) {
    case Level::kDebug:
      return spdlog::level::debug;
    case Level::kInfo:
      return spdlog::level::info;
    case Level::kWarn:
      return spdlog::level::warn;
    case Level::kError:
      return spdlog::level::err;
  }
  return spdlog::level::info;
}

const char* LevelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "info";
}

}  // namespace

void SetLevel(std::string_view name) {
  spdlog::level::level_enum level = spdlog::level::info;
  if (name == "debug") level = spdlog::level::debug;
  if (name == "warn") level = spdlog::level::warn;
  if (name == "error") level = spdlog::level::err;
  Logger().set_level(level);
}

std::string Format(Level level, std::string_view event, boost::json::object fields) {
  if (!Logger().should_log(ToSpdlog(level))) return "";
  auto now = std::chrono::system_clock::now();
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  // The date and time to the second change once a second: formatted once a second per thread.
  thread_local std::chrono::sys_seconds cached_second{};
  thread_local std::string cached_prefix;
  const auto second = std::chrono::time_point_cast<std::chrono::seconds>(now);
  if (second != cached_second || cached_prefix.empty()) {
    cached_prefix = fmt::format("{:%FT%H:%M:%S}", second);
    cached_second = second;
  }
  boost::json::object line;
  line["ts"] = fmt::format("{}.{:03}Z", cached_prefix, ms);
  line["level"] = LevelName(level);
  line["event"] = event;
  for (auto& field : fields) line[field.key()] = std::move(field.value());
  return boost::json::serialize(line);
}

void Write(Level level, std::string_view event, boost::json::object fields) {
  std::string line = Format(level, event, std::move(fields));
  if (!line.empty()) Logger().log(ToSpdlog(level), line);
}

}  // namespace octohub::log
