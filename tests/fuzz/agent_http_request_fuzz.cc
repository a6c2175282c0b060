// Fuzz target: the agent's HTTP request parser (agent/server/http_request.cc), which reads bytes
// from any local client. Besides not crashing, it checks the parser's contract: a kDone request
// consumed no more than it was given, its path starts with '/', and its body fits the limit;
// feeding the bytes in two pieces never yields kDone early with a different result.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "agent/server/http_request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace leakscope::agent;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  HttpRequest req;
  size_t used = 0;
  ParseStatus status = parse_http_request(in, &req, &used);
  if (status == ParseStatus::kDone) {
    if (used > size || req.path.empty() || req.path[0] != '/' || req.body.size() > kMaxBodyBytes) {
      abort();
    }
    (void)req.param("debug");
    std::string token = bearer_credentials(req.header("authorization"));
    if (!token.empty() && token.front() == ' ') abort();
    HttpRequest prefix_req;
    size_t prefix_used = 0;
    if (used > 0 &&
        parse_http_request(in.substr(0, used - 1), &prefix_req, &prefix_used) ==
            ParseStatus::kDone &&
        prefix_used == used) {
      abort();
    }
  }
  (void)url_decode(in);
  (void)bearer_credentials(in);
  return 0;
}
