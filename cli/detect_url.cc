// See detect_url.h.
#include "cli/detect_url.h"

#include <cctype>
#include <charconv>

namespace leakscope::cli {

namespace {

Result<int> parse_port(const std::string& s, const std::string& whole) {
  int port = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), port);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || port <= 0 || port > 65535)
    return make_error("bad port in '" + whole + "'");
  return port;
}

// A host is a name or an IPv4 address (letters, digits, '.', '-', '_'), or in brackets an IPv6
// address (it has a ':'; letters, digits, ':', '.' for an embedded IPv4, '%' before a zone).
// Anything else ("a b", "user@host", a line break) would only fail later at connect, or go out in
// the request's Host header.
bool valid_host(const std::string& host, bool bracketed) {
  if (bracketed && host.find(':') == std::string::npos) return false;
  for (char c : host) {
    bool name = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
    if (!name && !(bracketed && (c == ':' || c == '%'))) return false;
  }
  return true;
}

// "host:port" or "[v6]:port" into url.
Result<void> split_host_port(const std::string& hp, const std::string& whole, Url& url) {
  bool bracketed = !hp.empty() && hp[0] == '[';
  size_t colon;
  if (bracketed) {
    size_t close = hp.find(']');
    if (close == std::string::npos) return make_error("unclosed '[' in '" + whole + "'");
    url.host = hp.substr(1, close - 1);
    colon = close + 1;
    if (colon >= hp.size() || hp[colon] != ':') return make_error("no port in '" + whole + "'");
  } else {
    colon = hp.rfind(':');
    if (colon == std::string::npos) return make_error("no port in '" + whole + "'");
    url.host = hp.substr(0, colon);
  }
  if (url.host.empty()) return make_error("no host in '" + whole + "'");
  if (!bracketed && url.host.find(':') != std::string::npos)
    return make_error("an IPv6 address needs brackets ([::1]:6060) in '" + whole + "'");
  if (!valid_host(url.host, bracketed))
    return make_error("bad host '" + url.host + "' in '" + whole + "'");
  auto port = parse_port(hp.substr(colon + 1), whole);
  if (!port) return port.error();
  url.port = *port;
  return {};
}

}  // namespace

std::string Url::text() const {
  bool v6 = host.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port) + prefix;
}

Result<Url> parse_url(const std::string& text) {
  std::string s = text;
  if (s.rfind("http://", 0) == 0)
    s = s.substr(7);
  else if (s.find("://") != std::string::npos)
    return make_error("only http:// URLs are supported: '" + text + "'");
  size_t slash = s.find('/');
  std::string hp = s.substr(0, slash);
  std::string path = slash == std::string::npos ? "" : s.substr(slash);
  size_t q = path.find_first_of("?#");
  if (q != std::string::npos) path.resize(q);
  size_t dbg = path.find("/debug/pprof");
  if (dbg != std::string::npos) path.resize(dbg);
  while (!path.empty() && path.back() == '/') path.pop_back();
  Url url;
  url.prefix = path;
  auto ok = split_host_port(hp, text, url);
  if (!ok) return ok.error();
  return url;
}

Result<Url> parse_announce(const std::string& text) {
  std::string s = text.substr(0, text.find_first_of("\r\n"));
  if (s.empty()) return make_error("empty announce file");
  Url url;
  auto ok = split_host_port(s, s, url);
  if (!ok) return ok.error().wrap("announce file");
  return url;
}

}  // namespace leakscope::cli
