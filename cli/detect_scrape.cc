// See detect_scrape.h.
#include "cli/detect_scrape.h"

#include <httplib.h>

#include "core/profile/pprof_codec.h"

namespace leakscope::cli {

Scraper::Scraper(Url url) : url_(std::move(url)) {
  client_ = std::make_unique<httplib::Client>(url_.host, url_.port);
  client_->set_connection_timeout(2, 0);
  client_->set_read_timeout(10, 0);
  client_->set_write_timeout(5, 0);
  client_->set_keep_alive(true);
}

Scraper::~Scraper() = default;

Result<std::string> Scraper::get(const std::string& path) {
  auto res = client_->Get((url_.prefix + path).c_str());
  if (!res) return make_error("GET " + url_.text() + path + ": " + httplib::to_string(res.error()));
  if (res->status != 200)
    return make_error("GET " + url_.text() + path + ": HTTP " + std::to_string(res->status));
  return std::move(res->body);
}

Result<std::string> Scraper::get_bounded(const std::string& path, size_t max_bytes) {
  std::string body;
  bool too_big = false;
  auto res = client_->Get((url_.prefix + path).c_str(), [&](const char* data, size_t n) {
    too_big = body.size() + n > max_bytes;
    if (!too_big) body.append(data, n);
    return !too_big;
  });
  std::string what = "GET " + url_.text() + path + ": ";
  if (too_big) return make_error(what + "more than " + std::to_string(max_bytes) + " bytes");
  if (!res) return make_error(what + httplib::to_string(res.error()));
  if (res->status != 200) return make_error(what + "HTTP " + std::to_string(res->status));
  return body;
}

void Scraper::set_timeouts(int connect_s, int read_s) {
  client_->set_connection_timeout(connect_s, 0);
  client_->set_read_timeout(read_s, 0);
}

Result<Profile> Scraper::profile(const std::string& path) {
  auto body = get(path);
  if (!body) return body.error();
  auto p = decode_profile(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(body->data()), body->size()));
  if (!p) return p.error().wrap(url_.text() + path);
  return p;
}

bool Scraper::answers(const std::string& path) { return get(path).ok(); }

int Scraper::status(const std::string& path) {
  auto res = client_->Get((url_.prefix + path).c_str());
  return res ? res->status : 0;
}

}  // namespace leakscope::cli
