# The pprof decoder (core/profile), and the program that wrote its seed corpus.
leakscope_fuzz_target(profile_decode ${LEAKSCOPE_FUZZ_DIR}/profile_decode_fuzz.cc leakscope_profile)

add_executable(profile_corpus_gen ${LEAKSCOPE_FUZZ_DIR}/profile_corpus_gen.cc)
target_include_directories(profile_corpus_gen PRIVATE ${PROJECT_SOURCE_DIR})
target_link_libraries(profile_corpus_gen PRIVATE leakscope_warnings leakscope_profile)
