// The HTTP request parser (see http_request.h). Also HttpRequest's accessors.
#include "agent/server/http_request.h"

#include <cctype>
#include <cstdlib>

namespace leakscope::agent {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string bearer_credentials(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() < kScheme.size() || lower(authorization.substr(0, 7)) != kScheme) {
    return "";
  }
  std::string_view rest = authorization.substr(kScheme.size());
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  return std::string(rest);
}

std::string url_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out += ' ';
    } else if (in[i] == '%' && i + 2 < in.size() && hex_value(in[i + 1]) >= 0 &&
               hex_value(in[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2]));
      i += 2;
    } else {
      out += in[i];
    }
  }
  return out;
}

ParseStatus parse_http_request(std::string_view data, HttpRequest* out, size_t* consumed) {
  size_t head_end = data.find("\r\n\r\n");
  size_t sep = 4;
  if (head_end == std::string_view::npos) {
    head_end = data.find("\n\n");
    sep = 2;
  }
  if (head_end == std::string_view::npos) {
    return data.size() > kMaxHeaderBytes ? ParseStatus::kTooLarge : ParseStatus::kIncomplete;
  }
  if (head_end > kMaxHeaderBytes) return ParseStatus::kTooLarge;
  std::string_view head = data.substr(0, head_end);
  size_t line_end = head.find('\n');
  std::string_view request_line = trim(head.substr(0, line_end));
  // METHOD SP TARGET SP HTTP/1.x
  size_t sp1 = request_line.find(' ');
  if (sp1 == std::string_view::npos) return ParseStatus::kBad;
  size_t sp2 = request_line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return ParseStatus::kBad;
  std::string_view method = request_line.substr(0, sp1);
  std::string_view target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = request_line.substr(sp2 + 1);
  if (!is_token(method) || target.empty() || target[0] != '/' ||
      version.substr(0, 7) != "HTTP/1.") {
    return ParseStatus::kBad;
  }
  for (char c : target) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return ParseStatus::kBad;
  }
  HttpRequest req;
  req.method = std::string(method);
  size_t q = target.find('?');
  req.path = std::string(target.substr(0, q));
  if (q != std::string_view::npos) req.query = std::string(target.substr(q + 1));
  size_t content_length = 0;
  std::string_view rest = line_end == std::string_view::npos ? "" : head.substr(line_end + 1);
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    std::string_view line = trim(rest.substr(0, nl));
    rest = nl == std::string_view::npos ? "" : rest.substr(nl + 1);
    if (line.empty()) continue;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return ParseStatus::kBad;
    std::string name = lower(line.substr(0, colon));
    if (!is_token(name)) return ParseStatus::kBad;
    std::string value(trim(line.substr(colon + 1)));
    if (name == "transfer-encoding") return ParseStatus::kBad;  // no chunked bodies
    if (name == "content-length") {
      if (value.empty() || value.size() > 9) return ParseStatus::kBad;
      for (char c : value) {
        if (!isdigit(static_cast<unsigned char>(c))) return ParseStatus::kBad;
      }
      content_length = strtoul(value.c_str(), nullptr, 10);
      if (content_length > kMaxBodyBytes) return ParseStatus::kTooLarge;
    }
    if (req.headers.size() >= 64) return ParseStatus::kTooLarge;
    req.headers.emplace_back(std::move(name), std::move(value));
  }
  size_t body_at = head_end + sep;
  if (data.size() - body_at < content_length) return ParseStatus::kIncomplete;
  req.body = std::string(data.substr(body_at, content_length));
  *out = std::move(req);
  *consumed = body_at + content_length;
  return ParseStatus::kDone;
}

std::string HttpRequest::param(const std::string& key, const std::string& fallback) const {
  std::string_view q = query;
  while (!q.empty()) {
    size_t amp = q.find('&');
    std::string_view part = q.substr(0, amp);
    q = amp == std::string_view::npos ? "" : q.substr(amp + 1);
    size_t eq = part.find('=');
    if (url_decode(part.substr(0, eq)) == key) {
      return eq == std::string_view::npos ? "" : url_decode(part.substr(eq + 1));
    }
  }
  return fallback;
}

std::string HttpRequest::header(const std::string& name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return "";
}

}  // namespace leakscope::agent
