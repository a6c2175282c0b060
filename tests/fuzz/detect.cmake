# The detective's parsers of /proc, cgroup and debug-URL text (cli/detect_proc.cc, detect_url.cc)
# and the checks' parsers (cli/detect_checks.cc, detect_gc.cc), from the CLI library.
leakscope_fuzz_target(detect_parsers ${CMAKE_CURRENT_LIST_DIR}/detect_parsers_fuzz.cc
                      leakscope_cli)
