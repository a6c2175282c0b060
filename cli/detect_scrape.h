// Scraping a debug server: the agent's (libleakscope.so) or a Go service's net/http/pprof. One
// keep-alive HTTP client per target (cpp-httplib), short timeouts so a hung target cannot stall
// the sampling loop, and the URL forms people paste: "127.0.0.1:6060", "http://host:port",
// "http://host:port/debug/pprof/", or a prefix in front of /debug/pprof.
#pragma once

#include <memory>
#include <string>

#include "core/profile/profile.h"
#include "core/util/result.h"

namespace httplib {
class Client;
}

namespace leakscope::cli {

struct Url {
  std::string host;  // "127.0.0.1", "::1" (no brackets)
  int port = 0;
  std::string prefix;        // path in front of /debug/pprof, "" or "/svc" (no trailing slash)
  std::string text() const;  // "http://127.0.0.1:6060" + prefix
};

// Parses the forms above; errors say what is wrong ("no port in 'localhost'").
Result<Url> parse_url(const std::string& text);

// Parses the agent's LEAKSCOPE_ANNOUNCE file: "HOST:PORT\n" or "[V6]:PORT\n".
Result<Url> parse_announce(const std::string& text);

class Scraper {
 public:
  explicit Scraper(Url url);
  ~Scraper();
  Scraper(const Scraper&) = delete;
  Scraper& operator=(const Scraper&) = delete;

  const Url& url() const { return url_; }
  // GET prefix+path; errors carry the status or the transport error.
  Result<std::string> get(const std::string& path);
  // GET and decode a pprof profile.
  Result<Profile> profile(const std::string& path);
  // True when GET prefix+path answers 200.
  bool answers(const std::string& path);

 private:
  Url url_;
  std::unique_ptr<httplib::Client> client_;
};

}  // namespace leakscope::cli
