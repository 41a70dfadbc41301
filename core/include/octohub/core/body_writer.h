// A byte sink for bodies produced piece by piece (an export, say): the HTTP layer streams it
// to a client with chunked transfer encoding, the CLI writes it to a file.
#pragma once

#include <string_view>

namespace octohub {

// Not thread-safe.
class BodyWriter {
 public:
  virtual ~BodyWriter() = default;
  // Takes one piece, waiting while the reader is slow, so memory stays bounded by a few
  // pieces whatever the body's size. False once the reader has gone, has stopped reading for
  // too long, or the server is stopping: the producer must stop then.
  virtual bool Write(std::string_view piece) = 0;
};

}  // namespace octohub
