# The Prometheus text parser (core/metrics/prom_text.cc): what a scraped /metrics endpoint says.
leakscope_fuzz_target(prom_text ${CMAKE_CURRENT_LIST_DIR}/prom_text_fuzz.cc leakscope_metrics)
