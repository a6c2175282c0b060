// The one-shot load of tests/integration/run_short_*.sh: N sequential HTTP/1.0 requests, one
// connection each, to 127.0.0.1:PORT, at paths PREFIX0, PREFIX1, ... Exits 1 when fewer than
// half were answered.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: load PORT N [PATH_PREFIX]\n");
    return 2;
  }
  int port = std::atoi(argv[1]);
  long n = std::atol(argv[2]);
  std::string prefix = argc > 3 ? argv[3] : "/r/";
  long answered = 0;
  for (long i = 0; i < n; ++i) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
      std::string req = "GET " + prefix + std::to_string(i) + " HTTP/1.0\r\n\r\n";
      if (write(s, req.data(), req.size()) == static_cast<ssize_t>(req.size())) {
        char buf[512];
        ssize_t got = 0, k;
        while ((k = read(s, buf, sizeof buf)) > 0) got += k;
        if (got > 0) ++answered;
      }
    }
    close(s);
  }
  std::fprintf(stderr, "load: %ld of %ld answered\n", answered, n);
  return answered * 2 >= n ? 0 : 1;
}
