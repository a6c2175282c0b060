// The heap subsystem's routes: /debug/pprof/heap, /allocs, /mmap (gzip'd pprof, or Go's legacy
// text with ?debug=1) and /debug/pprof/symbol (pprof's remote symbolization).
//
// /heap and /allocs are the same books (Go's rule): /allocs only sets default_sample_type to
// alloc_space. Both are cumulative since process start, so alloc_* never decreases (Parca and
// Alloy compute deltas from /allocs).
//
// /symbol answers addresses with the function that contains them in the mapped file's symbol
// table (.symtab with static functions, or its build-id debug file's, else .dynsym;
// elf_symbols.cc), else with the nearest symbol dladdr knows. pprof asks it for the frames
// that local symbolization and the profile's own names left unnamed.
#include <cinttypes>
#include <cstring>

#include "agent/heap/heap_state.h"
#include "agent/profile/elf_symbols.h"

namespace leakscope::agent {

namespace {

std::string symbol_of(uintptr_t pc) {
  DlSymbol sym;
  if (!dl_symbol(pc, sym) || sym.name == nullptr) return "";
  char off[32];
  snprintf(off, sizeof(off), "+0x%" PRIxPTR, pc - sym.start);
  return std::string(sym.name) + off;
}

void serve_profile(const HttpRequest& req, HttpResponse& res, const char* name,
                   std::string (*bytes)()) {
  if (req.param("debug", "0") != "0") {
    res.body = heap_profile_text();
    return;
  }
  res.content_type = "application/octet-stream";
  res.headers.emplace_back("Content-Disposition",
                           std::string("attachment; filename=\"") + name + "\"");
  res.body = bytes();
}

std::string heap_bytes() { return heap_profile_bytes(false); }
std::string allocs_bytes() { return heap_profile_bytes(true); }

void heap_route(const HttpRequest& req, HttpResponse& res) {
  serve_profile(req, res, "heap", heap_bytes);
}
void allocs_route(const HttpRequest& req, HttpResponse& res) {
  serve_profile(req, res, "allocs", allocs_bytes);
}
void mmap_route(const HttpRequest& req, HttpResponse& res) {
  res.content_type = "application/octet-stream";
  res.headers.emplace_back("Content-Disposition", "attachment; filename=\"mmap\"");
  (void)req;
  res.body = mmap_profile_bytes();
}

// GET: "num_symbols: 1". POST body (or GET query): "0xADDR+0xADDR..." -> "0xADDR name" lines.
// Names come from the mapped files' symbol tables (static functions too), read on this, the
// agent's, thread; dladdr answers for what they do not cover.
void symbol_route(const HttpRequest& req, HttpResponse& res) {
  constexpr size_t kMaxAddresses = 100000;
  std::string input = req.method == "POST" ? req.body : req.query;
  std::vector<uint64_t> pcs;
  size_t pos = 0;
  while (pos < input.size() && pcs.size() < kMaxAddresses) {
    size_t plus = input.find('+', pos);
    if (plus == std::string::npos) plus = input.size();
    std::string word = input.substr(pos, plus - pos);
    pos = plus + 1;
    char* end = nullptr;
    uint64_t pc = strtoull(word.c_str(), &end, 0);
    if (pc != 0 && end != word.c_str()) pcs.push_back(pc);
  }
  std::vector<std::string> names = function_names_anywhere(pcs);
  std::string out = "num_symbols: 1\n";
  for (size_t i = 0; i < pcs.size(); ++i) {
    std::string name = names[i];
    if (name.empty()) {
      name = symbol_of(pcs[i]);
      if (name.empty()) continue;
      name.resize(name.rfind('+'));  // pprof wants the function name only
    }
    char hex[32];
    snprintf(hex, sizeof(hex), "%#" PRIx64, pcs[i]);
    out += std::string(hex) + "\t" + name + "\n";
  }
  res.body = std::move(out);
}

}  // namespace

std::string heap_profile_bytes(bool allocs_default) {
  return encode_profile_bytes(build_books_profile(BookKind::kHeap, allocs_default));
}

std::string mmap_profile_bytes() {
  return encode_profile_bytes(build_books_profile(BookKind::kMmap, false));
}

// Go's legacy text format (runtime/pprof writeHeapInternal). Our values are already unbiased,
// so the header says "heapprofile" (unsampled): pprof must not scale them a second time.
std::string heap_profile_text() {
  Profile p = build_books_profile(BookKind::kHeap, false);
  int64_t t[4] = {0, 0, 0, 0};
  for (const Sample& s : p.samples) {
    for (int i = 0; i < 4; ++i) t[i] += s.values[i];
  }
  char line[256];
  snprintf(line, sizeof(line),
           "heap profile: %" PRId64 ": %" PRId64 " [%" PRId64 ": %" PRId64 "] @ heapprofile\n",
           t[2], t[3], t[0], t[1]);
  std::string out = line;
  std::vector<const Location*> by_id(p.locations.size() + 1, nullptr);
  for (const Location& l : p.locations) by_id[l.id] = &l;
  std::vector<uint64_t> pcs, offsets;  // every location's name+offset, from the symbol tables
  for (const Location& l : p.locations) pcs.push_back(l.address);
  std::vector<std::string> names = function_names_anywhere(pcs, &offsets);
  std::string notes;
  for (const Sample& s : p.samples) {
    snprintf(line, sizeof(line), "%" PRId64 ": %" PRId64 " [%" PRId64 ": %" PRId64 "] @",
             s.values[2], s.values[3], s.values[0], s.values[1]);
    out += line;
    notes.clear();
    for (uint64_t id : s.location_ids) {
      const Location* l = by_id[id];
      if (l == nullptr || l->address == 0) continue;
      // The legacy format lists return addresses (pprof subtracts one when it reads them).
      snprintf(line, sizeof(line), " %#" PRIx64, l->address + 1);
      out += line;
      std::string sym = symbol_of(l->address);
      if (!names[id - 1].empty()) {
        char off[32];
        snprintf(off, sizeof(off), "+0x%" PRIx64, offsets[id - 1]);
        sym = names[id - 1] + off;
      }
      snprintf(line, sizeof(line), "#\t%#" PRIx64 "\t%s\n", l->address + 1,
               sym.empty() ? "?" : sym.c_str());
      notes += line;
    }
    out += "\n" + notes + "\n";
  }
  for (const std::string& c : p.comments) out += "# " + c + "\n";
  return out;
}

void heap_init() {
  register_route("/debug/pprof/heap",
                 "A sampling of memory allocations of live objects (inuse_space by default).",
                 heap_route);
  register_route("/debug/pprof/allocs",
                 "A sampling of all past memory allocations (alloc_space by default; "
                 "cumulative, never decreases).",
                 allocs_route);
  register_route("/debug/pprof/mmap",
                 "A sampling of anonymous mmap/mremap mappings, live and past.", mmap_route);
  register_route("/debug/pprof/symbol", "Symbol lookup for pprof (GET and POST).", symbol_route);
}

}  // namespace leakscope::agent
