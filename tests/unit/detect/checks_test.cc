// The checks that turn an everyday mistake into an error instead of "no leak" (issue 17): a Go
// program recognised from its ELF sections, a load whose summary says it sent nothing, the
// owner of a listening port found through /proc, the tail of a target's output.
#include <arpa/inet.h>
#include <elf.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstring>

#include "cli/detect_checks.h"

namespace leakscope::cli {
namespace {

// A minimal 64-bit ELF file: a header, a section-name table, and one section per name.
std::string fake_elf(const std::vector<std::string>& sections) {
  std::string names(1, '\0');
  std::vector<uint32_t> offsets;
  for (const std::string& s : sections) {
    offsets.push_back(static_cast<uint32_t>(names.size()));
    names += s + '\0';
  }
  uint32_t shstrtab_name = static_cast<uint32_t>(names.size());
  names += std::string(".shstrtab") + '\0';
  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_shentsize = sizeof(Elf64_Shdr);
  eh.e_shnum = static_cast<uint16_t>(sections.size() + 2);  // null, sections, .shstrtab
  eh.e_shstrndx = static_cast<uint16_t>(sections.size() + 1);
  eh.e_shoff = sizeof eh + names.size();
  std::string out(reinterpret_cast<const char*>(&eh), sizeof eh);
  out += names;
  std::vector<Elf64_Shdr> sh(eh.e_shnum);
  for (size_t i = 0; i < sections.size(); ++i) sh[i + 1].sh_name = offsets[i];
  sh.back().sh_name = shstrtab_name;
  sh.back().sh_offset = sizeof eh;
  sh.back().sh_size = names.size();
  out.append(reinterpret_cast<const char*>(sh.data()), sh.size() * sizeof(Elf64_Shdr));
  return out;
}

TEST(GoProgram, RecognisedByItsSections) {
  EXPECT_TRUE(is_go_elf(fake_elf({".text", ".go.buildinfo", ".data"})));
  EXPECT_TRUE(is_go_elf(fake_elf({".note.go.buildid", ".text"})));
  EXPECT_FALSE(is_go_elf(fake_elf({".text", ".data", ".note.gnu.build-id"})));
  EXPECT_FALSE(is_go_elf(fake_elf({".go.buildinfox"})));
}

TEST(GoProgram, AnythingElseIsNotGo) {
  std::string go = fake_elf({".go.buildinfo"});
  EXPECT_FALSE(is_go_elf(go.substr(0, go.size() - 10)));  // section table cut short
  EXPECT_FALSE(is_go_elf(""));
  EXPECT_FALSE(is_go_elf("#!/bin/sh\nexec ./svc\n"));
  EXPECT_FALSE(is_go_program_file("/proc/self/exe"));  // this test is C++
  EXPECT_FALSE(is_go_program_file("/nonexistent"));
}

TEST(GoProgram, ResolvedOnPath) {
  EXPECT_EQ(resolve_program("./svc"), "./svc");
  auto sh = resolve_program("sh");
  ASSERT_TRUE(sh);
  EXPECT_EQ(access(sh->c_str(), X_OK), 0);
  EXPECT_FALSE(resolve_program("no-such-program-leakscope"));
}

TEST(Load, SummaryThatSentNothing) {
  EXPECT_EQ(load_sent_nothing("Running 5s test @ http://127.0.0.1:1/\n  1 threads\n"
                              "  0 requests in 5.00s, 0.00B read\n  Socket errors: connect 1\n"),
            "wrk: 0 requests in 5.00s, 0.00B read");
  EXPECT_EQ(load_sent_nothing("Complete requests:      0\nFailed requests:        0\n"),
            "ab: Complete requests: 0");
  EXPECT_EQ(load_sent_nothing("  1000 requests in 5.00s, 80.00KB read\n"), "");
  EXPECT_EQ(load_sent_nothing("Complete requests:      10\n"), "");
  EXPECT_EQ(load_sent_nothing(""), "");
  // Several runs (a load of parallel wrk's): nothing sent only when every one sent nothing.
  const char* one = "  0 requests in 12.07s, 0.00B read\n";
  const char* some = "  400 requests in 12.00s, 47.94KB read\n";
  EXPECT_EQ(load_sent_nothing(std::string(one) + one),
            "all 2 runs: wrk: 0 requests in 12.07s, 0.00B read");
  EXPECT_EQ(load_sent_nothing(std::string(one) + some), "");
  LoadSummaries s = load_summaries(std::string(some) + one + some);
  EXPECT_EQ(s.runs, 3);
  EXPECT_EQ(s.empty, 1);
}

TEST(Output, LastLines) {
  EXPECT_EQ(last_lines("a\n\nb\nc\n", 2), "\n  | b\n  | c");
  EXPECT_EQ(last_lines("only\n", 5), "\n  | only");
  EXPECT_EQ(last_lines("\n\n", 5), "");
  EXPECT_EQ(output_tail("/nonexistent/target.log", "svc"), "");
}

TEST(Port, ListeningInodes) {
  const char* tcp =
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
      "timeout inode\n"
      "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 "
      "4242 1 0000000000000000 100 0 0 10 0\n"
      "   1: 0100007F:1F90 0100007F:A000 01 00000000:00000000 00:00000000 00000000     0        0 "
      "4343 1 0000000000000000 20 4 30 10 -1\n"
      "   2: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 "
      "4444 1 0000000000000000 100 0 0 10 0\n";
  EXPECT_EQ(parse_listening_inodes(tcp, 8080), std::vector<uint64_t>{4242});  // not ESTABLISHED
  EXPECT_EQ(parse_listening_inodes(tcp, 80), std::vector<uint64_t>{4444});
  EXPECT_TRUE(parse_listening_inodes(tcp, 81).empty());
  EXPECT_TRUE(parse_listening_inodes("garbage\nmore garbage\n", 80).empty());
}

TEST(Port, SocketLink) {
  EXPECT_EQ(parse_socket_link("socket:[12345]"), 12345u);
  EXPECT_FALSE(parse_socket_link("pipe:[12345]"));
  EXPECT_FALSE(parse_socket_link("socket:[12x]"));
  EXPECT_FALSE(parse_socket_link("/dev/null"));
}

TEST(Port, OwnerIsFoundThroughProc) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  socklen_t len = sizeof a;
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
  int port = ntohs(a.sin_port);
  EXPECT_EQ(port_owner(port), getpid());
  Url url{"127.0.0.1", port, ""};
  EXPECT_EQ(foreign_port_owner(url, getpid(), "svc"), "");   // held by the target itself
  EXPECT_EQ(foreign_port_owner(url, getppid(), "svc"), "");  // by a child of the target
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  pid_t other = fork();  // a process that is neither: the port is foreign to it
  if (other == 0) {
    close(fd);  // not its socket, once closed here
    char c = 1;
    if (write(ready[1], &c, 1) == 1) pause();
    _exit(0);
  }
  char c = 0;
  ASSERT_EQ(read(ready[0], &c, 1), 1);
  std::string foreign = foreign_port_owner(url, other, "svc");
  kill(other, SIGKILL);
  EXPECT_NE(foreign.find("held by another process, PID " + std::to_string(getpid())),
            std::string::npos)
      << foreign;
  // The same port named by a non-loopback address may be another host's: not judged.
  EXPECT_EQ(foreign_port_owner(Url{"10.1.2.3", port, ""}, other, "svc"), "");
  close(fd);
  EXPECT_FALSE(port_owner(port));
}

TEST(Process, Descends) {
  EXPECT_TRUE(descends_from(getpid(), getpid()));
  EXPECT_TRUE(descends_from(getpid(), getppid()));
  EXPECT_FALSE(descends_from(getppid(), getpid()));
}

}  // namespace
}  // namespace leakscope::cli
