# Overhead of the agent's thread and descriptor trackers (BENCHMARKS.md, "The agent: threads and
# descriptors overhead"): an open/close loop and a loopback echo server with connection churn,
# each run with and without the agent by bench/agent_trackers_run.sh.
add_executable(agent_trackers_openclose ${CMAKE_CURRENT_LIST_DIR}/agent_trackers_openclose.cc)
target_link_libraries(agent_trackers_openclose PRIVATE leakscope_warnings)
add_executable(agent_trackers_echo ${CMAKE_CURRENT_LIST_DIR}/agent_trackers_echo.cc)
target_link_libraries(agent_trackers_echo PRIVATE leakscope_warnings Threads::Threads)
# fork() after many threads came and went (issue 18, item 7): the child's thread-table reset.
add_executable(agent_trackers_fork ${CMAKE_CURRENT_LIST_DIR}/agent_trackers_fork.cc)
target_link_libraries(agent_trackers_fork PRIVATE leakscope_warnings Threads::Threads)
