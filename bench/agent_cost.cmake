# The agent's cost at the limit (bench/agent_cost.sh, BENCHMARKS.md): a held-out-style
# allocation-heavy program with no knowledge of the agent, built like any host (plain -O2 -g).
add_executable(agent_cost_churn ${CMAKE_CURRENT_LIST_DIR}/agent_cost_churn.cc)
target_link_libraries(agent_cost_churn PRIVATE leakscope_warnings Threads::Threads)
target_compile_options(agent_cost_churn PRIVATE -O2 -g)
