// RFC 4180 CSV with a header row, as open-data portals publish it: quoted fields may hold
// commas, doubled quotes and line breaks; lines end in CRLF or LF; a UTF-8 byte-order mark is
// dropped. Pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "octohub/core/status.h"

namespace octohub::ingest {

struct CsvAsJson {
  std::string array;        // [{"header": "value", …}, …], every value a string
  std::int64_t rows = 0;    // data rows in the file, ragged ones included
  std::int64_t ragged = 0;  // rows whose field count differs from the header's: left out
};

// kInvalidArgument for what cannot be read at all: no header, a header naming a column twice
// or not at all, a quote left open at the end.
Result<CsvAsJson> CsvToJsonArray(std::string_view text);

}  // namespace octohub::ingest
