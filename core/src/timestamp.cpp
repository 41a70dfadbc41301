#include "octohub/core/timestamp.h"

#include <cstdio>
#include <ctime>
#include <string>

namespace octohub {

std::optional<double> ParseTimestamp(std::string_view text) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0;
  double second = 0;
  char rest[16] = {};
  std::string input(text.substr(0, 40));
  int read = std::sscanf(input.c_str(), "%4d-%2d-%2d%*[T ]%2d:%2d:%lf%15s", &year, &month, &day,
                         &hour, &minute, &second, rest);
  if (read < 3 || month < 1 || month > 12 || day < 1 || day > 31) return std::nullopt;
  if (read == 3 && input.size() != 10) return std::nullopt;
  if (read > 3 && read < 6) return std::nullopt;
  std::tm parts{};
  parts.tm_year = year - 1900;
  parts.tm_mon = month - 1;
  parts.tm_mday = day;
  parts.tm_hour = hour;
  parts.tm_min = minute;
  double epoch = static_cast<double>(timegm(&parts)) + second;
  std::string_view zone(rest);
  if (zone.empty() || zone == "Z") return epoch;
  int zone_hours = 0, zone_minutes = 0;
  if ((zone[0] == '+' || zone[0] == '-') &&
      std::sscanf(rest + 1, "%2d:%2d", &zone_hours, &zone_minutes) == 2) {
    const int offset = (zone_hours * 60 + zone_minutes) * 60;
    return zone[0] == '+' ? epoch - offset : epoch + offset;
  }
  return std::nullopt;
}

}  // namespace octohub
