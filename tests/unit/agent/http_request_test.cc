// The debug server's request parser: complete, partial, malformed and oversized requests.
#include "agent/server/http_request.h"

#include <gtest/gtest.h>

namespace leakscope::agent {
namespace {

TEST(HttpRequest, ParsesGetWithQueryAndHeaders) {
  HttpRequest req;
  size_t used = 0;
  std::string in =
      "GET /debug/pprof/heap?debug=1&x=a%20b HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer "
      "t\r\n\r\n";
  ASSERT_EQ(parse_http_request(in, &req, &used), ParseStatus::kDone);
  EXPECT_EQ(used, in.size());
  EXPECT_EQ(req.method, "GET");
  EXPECT_EQ(req.path, "/debug/pprof/heap");
  EXPECT_EQ(req.param("debug"), "1");
  EXPECT_EQ(req.param("x"), "a b");
  EXPECT_EQ(req.param("missing", "d"), "d");
  EXPECT_EQ(req.header("authorization"), "Bearer t");
}

TEST(HttpRequest, BearerSchemeIsCaseInsensitive) {
  EXPECT_EQ(bearer_credentials("Bearer s3cret"), "s3cret");
  EXPECT_EQ(bearer_credentials("bearer s3cret"), "s3cret");
  EXPECT_EQ(bearer_credentials("BEARER   s3cret"), "s3cret");
  EXPECT_EQ(bearer_credentials("Basic s3cret"), "");
  EXPECT_EQ(bearer_credentials("Bearer"), "");
  EXPECT_EQ(bearer_credentials("Bearer "), "");
  EXPECT_EQ(bearer_credentials("Bearers3cret"), "");
  EXPECT_EQ(bearer_credentials(""), "");
}

TEST(HttpRequest, WaitsForTheWholeBody) {
  HttpRequest req;
  size_t used = 0;
  std::string head = "POST /debug/pprof/symbol HTTP/1.1\r\nContent-Length: 10\r\n\r\n";
  EXPECT_EQ(parse_http_request(head + "0x1+0x", &req, &used), ParseStatus::kIncomplete);
  ASSERT_EQ(parse_http_request(head + "0x1+0x2345", &req, &used), ParseStatus::kDone);
  EXPECT_EQ(req.body, "0x1+0x2345");
}

TEST(HttpRequest, IncompleteHeadersWaitThenOverflow) {
  HttpRequest req;
  size_t used = 0;
  EXPECT_EQ(parse_http_request("GET / HTTP/1.1\r\nHost: x\r\n", &req, &used),
            ParseStatus::kIncomplete);
  std::string huge = "GET / HTTP/1.1\r\nX: " + std::string(kMaxHeaderBytes, 'a');
  EXPECT_EQ(parse_http_request(huge, &req, &used), ParseStatus::kTooLarge);
}

TEST(HttpRequest, RejectsMalformedRequests) {
  HttpRequest req;
  size_t used = 0;
  for (const char* bad :
       {"GET\r\n\r\n", "GET nopath HTTP/1.1\r\n\r\n", "GET / FTP/1.0\r\n\r\n",
        "GET / HTTP/1.1\r\nno colon\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", "G@T / HTTP/1.1\r\n\r\n"}) {
    EXPECT_EQ(parse_http_request(bad, &req, &used), ParseStatus::kBad) << bad;
  }
  EXPECT_EQ(parse_http_request("POST / HTTP/1.1\r\nContent-Length: 999999999\r\n\r\n", &req, &used),
            ParseStatus::kTooLarge);
}

TEST(HttpRequest, UrlDecodeKeepsInvalidEscapes) {
  EXPECT_EQ(url_decode("a%2Fb+c%zz%4"), "a/b c%zz%4");
}

}  // namespace
}  // namespace leakscope::agent
