# Offline top on a large profile (bench/top_vs_pprof.sh, BENCHMARKS.md "Offline: decoding and
# `top` on a large profile"): the generator of the ~50 MB synthetic heap profile.
add_executable(top_gen_profile ${CMAKE_CURRENT_LIST_DIR}/top_gen_profile.cc)
target_include_directories(top_gen_profile PRIVATE ${PROJECT_SOURCE_DIR})
target_link_libraries(top_gen_profile PRIVATE leakscope_warnings leakscope_profile)
