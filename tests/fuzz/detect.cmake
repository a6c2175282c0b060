# The detective's parsers of /proc, cgroup and debug-URL text (cli/detect_proc.cc, detect_url.cc)
# and the checks' parsers (cli/detect_checks.cc, detect_gc.cc).
leakscope_fuzz_target(detect_parsers ${CMAKE_CURRENT_LIST_DIR}/detect_parsers_fuzz.cc
                      leakscope_util)
target_sources(detect_parsers_replay PRIVATE ${PROJECT_SOURCE_DIR}/cli/detect_proc.cc
                                             ${PROJECT_SOURCE_DIR}/cli/detect_url.cc
                                             ${PROJECT_SOURCE_DIR}/cli/detect_checks.cc
                                             ${PROJECT_SOURCE_DIR}/cli/detect_gc.cc)
if(TARGET detect_parsers_fuzz)
  target_sources(detect_parsers_fuzz PRIVATE ${PROJECT_SOURCE_DIR}/cli/detect_proc.cc
                                             ${PROJECT_SOURCE_DIR}/cli/detect_url.cc
                                             ${PROJECT_SOURCE_DIR}/cli/detect_checks.cc
                                             ${PROJECT_SOURCE_DIR}/cli/detect_gc.cc)
endif()
