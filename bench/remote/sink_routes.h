// The benchmark sink's answers to the Weave trace-server routes weft and the TypeScript SDK
// send (bench/remote/sink_server.cc does the HTTP; this file the bodies).
//
// A sink for throughput, not a checker. It answers what a client needs to go on (digests,
// row digests, a table's rows) and counts what arrived; it validates only as far as it
// must read. Unlike the hosted server and tests/support/fake_weave_server.py, it does NOT
// rewrite refs to an internal form before hashing: a ref-bearing value's digest is taken
// over the value as received. Both clients only echo the digest they are given, so the
// benchmark is unaffected; a digest from here is not the hosted server's digest.
//
// Parsing is cheap: simdjson on-demand walks each body once and skips what it does not
// need (a call's inputs, an object's fields when its digest is given). Only a value whose
// digest the sink must compute (no expected_digest; every table row) is parsed into a
// weft::Value and written as canonical JSON, as Weave hashes it.
#pragma once

#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "bench/remote/sink_stats.h"

namespace weft_bench_sink {

struct Reply {
  int status = 200;
  std::string body;  // JSON
};

class SinkApi {
 public:
  explicit SinkApi(SinkStats& stats) : stats_(stats) {}

  // JSON bodies, as the routes of the same names receive them.
  Reply obj_create(std::string_view body);
  Reply table_create(std::string_view body);
  Reply table_from_digests(std::string_view body);
  Reply table_query(std::string_view body);
  Reply upsert_batch(std::string_view body);
  Reply calls_complete(std::string_view body);
  Reply v2_call_start(std::string_view body);
  Reply v2_call_end(std::string_view body);
  // A multipart upload's file part and its expected_digest field (empty when absent).
  Reply file_create(std::string_view content, std::string_view expected_digest);

 private:
  // What /table/query needs to answer for a table created here (the TypeScript SDK reads
  // its rows' digests back right after creating it). Kept whole: a benchmark makes few.
  struct StoredTable {
    std::vector<std::string> row_digests;
    std::vector<std::string> rows_json;  // as received; empty for create_from_digests
  };

  void keep_table(const std::string& digest, StoredTable table);

  SinkStats& stats_;
  std::mutex tables_mu_;
  std::unordered_map<std::string, StoredTable> tables_;
};

}  // namespace weft_bench_sink
