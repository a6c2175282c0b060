# The agent's HTTP request parser (agent/server/http_request.cc): bytes from any local client.
leakscope_fuzz_target(agent_http_request ${LEAKSCOPE_FUZZ_DIR}/agent_http_request_fuzz.cc
                      leakscope_agent_http)
