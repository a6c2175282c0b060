// Scraping a debug server: the agent's (libleakscope.so) or a Go service's net/http/pprof. One
// keep-alive HTTP client per target (cpp-httplib), short timeouts so a hung target cannot stall
// the sampling loop. URLs: detect_url.h.
#pragma once

#include <memory>
#include <string>

#include "cli/detect_url.h"
#include "core/profile/profile.h"
#include "core/util/result.h"

namespace httplib {
class Client;
}

namespace leakscope::cli {

class Scraper {
 public:
  explicit Scraper(Url url);
  ~Scraper();
  Scraper(const Scraper&) = delete;
  Scraper& operator=(const Scraper&) = delete;

  const Url& url() const { return url_; }
  // GET prefix+path; errors carry the status or the transport error.
  Result<std::string> get(const std::string& path);
  // GET with the body bounded: more than `max_bytes` is an error, read no further (for endpoints
  // whose size grows with the target's state, like a service's /metrics).
  Result<std::string> get_bounded(const std::string& path, size_t max_bytes);
  // Connection and read timeouts in seconds (defaults: 2 and 10).
  void set_timeouts(int connect_s, int read_s);
  // GET and decode a pprof profile.
  Result<Profile> profile(const std::string& path);
  // True when GET prefix+path answers 200.
  bool answers(const std::string& path);
  // The HTTP status of GET prefix+path; 0 when no HTTP answer came (refused, timed out).
  int status(const std::string& path);

 private:
  Url url_;
  std::unique_ptr<httplib::Client> client_;
};

}  // namespace leakscope::cli
