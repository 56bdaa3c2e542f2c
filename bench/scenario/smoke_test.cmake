# bench_smoke: runs `weft-bench --quick --steps 2 --ops 50` and checks that it exits 0 and
# that its last line is the summary with naive_defer=DEADLOCK and then_gated=ok, and that
# the summary carries cpu_per_object_ratio (a number: every design ran on the null store),
# next to the per-thread-kind CPU table.
# Timings are printed but never checked (a loaded machine must not fail this test).
execute_process(
  COMMAND ${BENCH} --quick --steps 2 --ops 50
  RESULT_VARIABLE rc
  OUTPUT_VARIABLE out
  ERROR_VARIABLE err)
message("${out}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "weft-bench exited with ${rc}: ${err}")
endif()
string(STRIP "${out}" stripped)
string(REGEX MATCH "[^\n]*$" last_line "${stripped}")
if(NOT last_line MATCHES "^summary: weft_p50_ns=[0-9]+ sync_walk_p50_ns=[0-9]+ ratio=[0-9.]+ naive_defer=(DEADLOCK|ok) then_gated=(ok|DEADLOCK) cpu_per_object_ratio=([0-9.]+|n/a)$")
  message(FATAL_ERROR "the last line is not the summary line: '${last_line}'")
endif()
if(NOT last_line MATCHES "naive_defer=DEADLOCK")
  message(FATAL_ERROR "pool-naive-defer did not deadlock under the paused store: '${last_line}'")
endif()
if(NOT last_line MATCHES "then_gated=ok")
  message(FATAL_ERROR "pool-then-gated did not drain under the paused store: '${last_line}'")
endif()
if(NOT last_line MATCHES "cpu_per_object_ratio=[0-9]+[.][0-9]+$")
  message(FATAL_ERROR "the summary has no numeric cpu_per_object_ratio: '${last_line}'")
endif()
if(NOT out MATCHES "\\| CPU [^ |]+/object \\| app \\| scheduler \\| dispatch \\| store \\| clock \\| other \\| exited \\| context switches/op \\|")
  message(FATAL_ERROR "no per-thread-kind CPU table in the output")
endif()
