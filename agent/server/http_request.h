// The debug server's HTTP/1.x request parser: a pure function over the bytes received so far,
// so it can be unit tested and fuzzed (tests/fuzz/agent_http_request_fuzz.cc) away from sockets.
// Strict and bounded: request line and headers at most kMaxHeaderBytes, bodies at most
// kMaxBodyBytes (Content-Length only; chunked bodies are refused), no header folding.
#pragma once

#include <cstddef>
#include <string_view>

#include "agent/agent_api.h"

namespace leakscope::agent {

inline constexpr size_t kMaxHeaderBytes = 8192;
inline constexpr size_t kMaxBodyBytes = 64 << 10;

enum class ParseStatus {
  kIncomplete,  // need more bytes
  kDone,        // *out is filled; *consumed bytes were used
  kBad,         // malformed: answer 400 and close
  kTooLarge,    // over a limit: answer 413 (431 for headers) and close
};

LEAKSCOPE_HIDDEN ParseStatus parse_http_request(std::string_view data, HttpRequest* out,
                                                size_t* consumed);

// The credentials of an Authorization header value with the Bearer scheme: the scheme is
// case-insensitive (RFC 7235 section 2.1) and any run of spaces may follow it. "" when the scheme
// is not Bearer or no credentials follow.
LEAKSCOPE_HIDDEN std::string bearer_credentials(std::string_view authorization);

// Percent-decodes a query component ('+' is a space); invalid escapes are kept verbatim.
LEAKSCOPE_HIDDEN std::string url_decode(std::string_view in);

}  // namespace leakscope::agent
