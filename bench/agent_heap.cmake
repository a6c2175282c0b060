# The agent's heap-sampling overhead (bench/agent_heap_bench.sh, BENCHMARKS.md): a 2-thread
# malloc-heavy program. Plain -O2 with the project's defaults, like any host.
add_executable(agent_heap_malloc_bench ${CMAKE_CURRENT_LIST_DIR}/agent_heap_malloc_bench.cc)
target_link_libraries(agent_heap_malloc_bench PRIVATE leakscope_warnings Threads::Threads)
target_compile_options(agent_heap_malloc_bench PRIVATE -O2)

# The floor for bench/agent_heap_instructions.sh: an interposer that only forwards.
add_library(agent_floor_interposer SHARED ${CMAKE_CURRENT_LIST_DIR}/agent_floor_interposer.cc)
target_link_libraries(agent_floor_interposer PRIVATE leakscope_warnings ${CMAKE_DL_LIBS})
target_compile_options(agent_floor_interposer PRIVATE -O2)
