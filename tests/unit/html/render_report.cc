// leakscope_render_report REPORT.json OUT.html: the HTML renderer alone, so the page can be
// tested and measured on fixtures without running the detective. Exit 0 on success, 1 on an I/O
// error, 2 on usage.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "core/html/html_report.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: leakscope_render_report REPORT.json OUT.html\n";
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  if (!in) {
    std::cerr << "leakscope_render_report: error: cannot read " << argv[1] << "\n";
    return 1;
  }
  std::ostringstream json;
  json << in.rdbuf();
  const std::string page = leakscope::html::render_html_report(json.str());
  std::ofstream out(argv[2], std::ios::binary | std::ios::trunc);
  out << page;
  out.close();
  if (!out) {
    std::cerr << "leakscope_render_report: error: cannot write " << argv[2] << "\n";
    return 1;
  }
  return 0;
}
