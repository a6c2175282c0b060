// Debug-server addresses as people paste them ("127.0.0.1:6060", "http://host:port",
// "http://host:port/debug/pprof/", a prefix in front of /debug/pprof) and as the agent announces
// them (LEAKSCOPE_ANNOUNCE: "HOST:PORT\n"). Pure parsing, fuzzed
// (tests/fuzz/detect_parsers_fuzz.cc).
#pragma once

#include <string>

#include "core/util/result.h"

namespace leakscope::cli {

struct Url {
  std::string host;  // "127.0.0.1", "::1" (no brackets)
  int port = 0;
  std::string prefix;        // path in front of /debug/pprof, "" or "/svc" (no trailing slash)
  std::string text() const;  // "http://127.0.0.1:6060" + prefix
};

// Parses the forms above; the host is a name, an IPv4 address or an IPv6 address in brackets.
// Errors say what is wrong ("no port in 'localhost'", "bad host 'a b' in 'a b:80'").
Result<Url> parse_url(const std::string& text);

// Parses the agent's LEAKSCOPE_ANNOUNCE file: "HOST:PORT\n" or "[V6]:PORT\n".
Result<Url> parse_announce(const std::string& text);

}  // namespace leakscope::cli
