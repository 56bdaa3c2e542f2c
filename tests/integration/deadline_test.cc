// A lost child cannot hang a parent: past dependency_timeout the wait becomes a reported
// error and the parent finishes. The "lost child" is a cell claimed by a party that never
// resolves it (what a child actor that vanished without a word would look like).
#include <gtest/gtest.h>

#include <weft/runtime.h>

#include "runtime/core/save_cell.h"
#include "tests/support/test_support.h"

namespace weft {
namespace {

using namespace std::chrono_literals;
using testing::Db;
using testing::ErrorLog;
using testing::TempStore;
using testing::test_config;

TEST(RuntimeDeadlines, ParentOfALostChildFailsWithAReportedError) {
  TempStore store;
  ErrorLog errors;
  Config cfg = test_config(store);
  cfg.dependency_timeout = 300ms;
  cfg.on_error = errors.sink();
  Runtime rt(cfg);
  Value lost = make_object("Lost", {{"x", Value::integer(1)}});
  detail::Claim never_resolved = detail::claim_cell(lost, rt.instance_id());
  ASSERT_TRUE(never_resolved.owner);

  SavedRef parent = rt.save(make_object("Parent", {{"child", lost}}));
  const Value op = make_op("uses_lost", "def uses_lost(x): ...\n");
  Call call = rt.start_call(op, Value::dict({{"x", lost}}));
  call.finish(Value::integer(7));

  ASSERT_TRUE(parent.wait(60s));
  EXPECT_FALSE(parent.ok());
  EXPECT_NE(parent.error().find("gave up after 300 ms waiting for 1 of 1 children (Object 'Lost')"),
            std::string::npos)
      << parent.error();
  // Nothing hangs: the call is written without the lost input (its op is the other child),
  // and the flush reports the parent that could not be saved.
  FlushResult r = rt.flush(60s);
  EXPECT_FALSE(r.complete);
  EXPECT_EQ(r.pending, 0);
  EXPECT_EQ(r.failed, 1u);   // Parent
  EXPECT_EQ(r.written, 4u);  // the op (obj_create + its source file_create), call_start, call_end
  EXPECT_TRUE(errors.contains("gave up after 300 ms"));
  EXPECT_TRUE(errors.contains("call_start written without 1 of 2 children (Object 'Lost')"));
  Db db(store.path());
  EXPECT_EQ(db.text("SELECT inputs FROM calls"), "{\"x\": null}");
  EXPECT_EQ(db.text("SELECT output FROM calls"), "7");
  EXPECT_EQ(db.count("SELECT count(*) FROM objects WHERE object_id='Parent'"), 0);
}

}  // namespace
}  // namespace weft
