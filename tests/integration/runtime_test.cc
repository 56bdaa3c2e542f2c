// The application API: calls, nesting, exceptions, summaries, saves and their refs,
// configuration errors, and digests in the store checked against independent oracles.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <stdexcept>
#include <thread>

#include <weft/digest.h>
#include <weft/json.h>
#include <weft/runtime.h>

#include "tests/support/test_support.h"

namespace weft {
namespace {

using namespace std::chrono_literals;
using testing::Db;
using testing::TempStore;
using testing::test_config;

constexpr auto kFlush = 120s;

// Runs a shell command, returns its stdout (trailing newline removed).
std::string run(const std::string& cmd) {
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return {};
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

TEST(Runtime, RejectsBadProject) {
  TempStore store;
  Config cfg = test_config(store);
  cfg.project = "no-slash";
  auto rt = Runtime::open(cfg);
  ASSERT_FALSE(rt.is_ok());
  EXPECT_EQ(rt.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(rt.error().find("entity/project"), std::string::npos) << rt.error();
}

TEST(Runtime, RejectsUnwritableStore) {
  Config cfg;
  cfg.store_path = "/nonexistent-dir/weft.db";
  auto rt = Runtime::open(cfg);
  ASSERT_FALSE(rt.is_ok());
  EXPECT_EQ(rt.code(), StatusCode::kFailedPrecondition);  // SQLITE_CANTOPEN
  EXPECT_NE(rt.error().find("/nonexistent-dir/weft.db"), std::string::npos) << rt.error();
}

TEST(Runtime, NestedScopesRecordParentsAndOneTrace) {
  TempStore store;
  Runtime rt(test_config(store));
  const Value outer_op = make_op("outer", "def outer(): ...\n");
  const Value inner_op = make_op("inner", "def inner(): ...\n");
  std::string outer_id, inner_id, trace;
  {
    CallScope outer(rt, outer_op, Value::dict({}));
    EXPECT_EQ(current_call(), &outer.call());
    {
      CallScope inner(rt, inner_op, Value::dict({{"x", Value::integer(1)}}));
      EXPECT_EQ(inner.call().trace_id(), outer.call().trace_id());
      inner_id = inner.call().id().str();
      inner.finish(Value::integer(2));
    }
    EXPECT_EQ(current_call(), &outer.call());
    outer_id = outer.call().id().str();
    trace = outer.call().trace_id().str();
    outer.finish(Value::null());
  }
  EXPECT_EQ(current_call(), nullptr);
  ASSERT_TRUE(rt.flush(kFlush));
  Db db(store.path());
  EXPECT_EQ(db.text("SELECT parent_id FROM calls WHERE id='" + inner_id + "'"), outer_id);
  EXPECT_EQ(db.text("SELECT trace_id FROM calls WHERE id='" + inner_id + "'"), trace);
  EXPECT_EQ(db.text("SELECT parent_id FROM calls WHERE id='" + outer_id + "'"), "");
  EXPECT_EQ(db.text("SELECT output FROM calls WHERE id='" + inner_id + "'"), "2");
  EXPECT_EQ(db.text("SELECT inputs FROM calls WHERE id='" + inner_id + "'"), "{\"x\": 1}");
  std::string op_name = db.text("SELECT op_name FROM calls WHERE id='" + inner_id + "'");
  EXPECT_EQ(op_name.rfind("weave:///test-entity/test-project/op/inner:", 0), 0u) << op_name;
}

TEST(Runtime, ExplicitParentAcrossThreads) {
  TempStore store;
  Runtime rt(test_config(store));
  const Value op = make_op("step", "def step(): ...\n");
  Call parent = rt.start_call(op, Value::dict({}));
  std::string child_id;
  std::thread worker([&] {
    Call child = rt.start_call(op, Value::dict({}), CallOptions::child_of(parent));
    child_id = child.id().str();
    child.finish(Value::string("done"));
  });
  worker.join();
  parent.finish(Value::null());
  ASSERT_TRUE(rt.flush(kFlush));
  Db db(store.path());
  EXPECT_EQ(db.text("SELECT parent_id FROM calls WHERE id='" + child_id + "'"), parent.id().str());
}

TEST(Runtime, ExceptionsAreRecordedAsWeaveExceptionJson) {
  TempStore store;
  Runtime rt(test_config(store));
  const Value op = make_op("boom", "def boom(): raise ValueError('bad')\n");
  std::string scope_id, traced_id;
  try {
    CallScope scope(rt, op, Value::dict({}));
    scope_id = scope.call().id().str();
    throw std::runtime_error("unwound");
  } catch (const std::runtime_error&) {
  }
  EXPECT_THROW(run_traced(rt, op, Value::dict({}), [&]() -> Value {
                 traced_id = current_call()->id().str();
                 throw std::invalid_argument("bad input 7");
               }),
               std::invalid_argument);
  ASSERT_TRUE(rt.flush(kFlush));
  Db db(store.path());
  EXPECT_EQ(db.text("SELECT exception FROM calls WHERE id='" + traced_id + "'"),
            "{\"message\": \"bad input 7\", \"traceback\": [], \"type\": \"std::invalid_argument\"}");
  std::string ex = db.text("SELECT exception FROM calls WHERE id='" + scope_id + "'");
  EXPECT_NE(ex.find("\"type\": \"Exception\""), std::string::npos) << ex;
  EXPECT_NE(db.text("SELECT summary FROM calls WHERE id='" + traced_id + "'").find("\"error\": 1"),
            std::string::npos);
}

TEST(Runtime, FinishTwiceAndRefusedCallsAreErrors) {
  TempStore store;
  Runtime rt(test_config(store));
  std::vector<std::string> errors;
  const Value op = make_op("f", "");
  Call c = rt.start_call(op, Value::dict({}));
  EXPECT_TRUE(c.finish(Value::null()).is_ok());
  EXPECT_FALSE(c.finish(Value::null()).is_ok());
  Call bad = rt.start_call(Value::string("not an op"), Value::dict({}));
  EXPECT_FALSE(bad.recorded());
  EXPECT_FALSE(bad.finish(Value::null()).is_ok());
  EXPECT_EQ(rt.stats().events_refused, 1u);
  ASSERT_TRUE(rt.flush(kFlush));
}

TEST(Runtime, SummaryRollsUpUsageAndStatusOverDescendants) {
  TempStore store;
  Runtime rt(test_config(store));
  const Value agent = make_op("agent", "");
  const Value llm = make_op("llm", "");
  auto response = [](const char* model, int64_t p, int64_t c) {
    return Value::dict({{"model", Value::string(model)},
                        {"usage", Value::dict({{"prompt_tokens", Value::integer(p)},
                                               {"completion_tokens", Value::integer(c)},
                                               {"total_tokens", Value::integer(p + c)}})}});
  };
  std::string root_id;
  {
    CallScope root(rt, agent, Value::dict({}));
    root_id = root.call().id().str();
    {
      CallScope step(rt, agent, Value::dict({}));
      CallScope(rt, llm, Value::dict({})).finish(response("m1", 10, 5));
      CallScope(rt, llm, Value::dict({})).finish(response("m2", 1, 1));
      step.finish(Value::null());
    }
    CallScope(rt, llm, Value::dict({})).finish(response("m1", 3, 2));
    CallScope failed(rt, llm, Value::dict({}));
    failed.fail("RateLimit", "429");
    root.finish(Value::null());
  }
  ASSERT_TRUE(rt.flush(kFlush));
  Db db(store.path());
  EXPECT_EQ(db.text("SELECT summary FROM calls WHERE id='" + root_id + "'"),
            "{\"status_counts\": {\"error\": 1, \"success\": 5}, \"usage\": {"
            "\"m1\": {\"completion_tokens\": 7, \"prompt_tokens\": 13, \"requests\": 2, \"total_tokens\": 20}, "
            "\"m2\": {\"completion_tokens\": 1, \"prompt_tokens\": 1, \"requests\": 1, \"total_tokens\": 2}}}");
}

TEST(Runtime, SavedRefArrivesByCallbackAndPoll) {
  TempStore store;
  Runtime rt(test_config(store));
  std::atomic<int> callbacks{0};
  SavedRef ref = rt.save(make_object("Model", {{"temperature", Value::number(0.5)}}), "my model!");
  ref.on_ready([&](const SavedRef& r) {
    EXPECT_TRUE(r.ok());
    callbacks.fetch_add(1);
  });
  ASSERT_TRUE(rt.flush(kFlush));
  ASSERT_TRUE(ref.ready());
  EXPECT_EQ(callbacks.load(), 1);
  EXPECT_EQ(ref.digest().size(), kBaseDigestLength);
  EXPECT_EQ(ref.uri(), "weave:///test-entity/test-project/object/my-model:" + ref.digest());
  ref.on_ready([&](const SavedRef&) { callbacks.fetch_add(1); });  // already ready: runs now
  EXPECT_EQ(callbacks.load(), 2);
}

TEST(Runtime, SavingAPlainValueNeedsAName) {
  TempStore store;
  std::vector<std::string> errors;
  Config cfg = test_config(store);
  cfg.on_error = [&](const std::string& m) { errors.push_back(m); };
  Runtime rt(cfg);
  SavedRef ref = rt.save(Value::dict({{"a", Value::integer(1)}}));
  ASSERT_TRUE(ref.wait(kFlush));
  EXPECT_FALSE(ref.ok());
  EXPECT_NE(ref.error().find("without a name"), std::string::npos) << ref.error();
  // The flush says so: nothing is pending, one thing failed, nothing was written.
  FlushResult r = rt.flush(kFlush);
  EXPECT_FALSE(r.complete);
  EXPECT_EQ(r.failed, 1u);
  EXPECT_EQ(r.written, 0u);
  EXPECT_EQ(r.pending, 0);
}

// (f) Digests in the store equal `weft digest` of the same values, and Python's hashlib.
TEST(Runtime, StoredDigestsEqualCliAndPython) {
  TempStore store;
  Runtime rt(test_config(store));
  auto parsed = parse_json(R"({"b": [1.0, 1e16, -0.0], "a": "\u00e9\ud83d\ude00", "n": 123456789012345678901234567890})");
  ASSERT_TRUE(parsed.is_ok()) << parsed.error();
  SavedRef plain = rt.save(parsed.value(), "config");
  Value inner = make_object("Inner", {{"x", Value::number(0.1)}});
  SavedRef outer = rt.save(make_object("Outer", {{"inner", inner}, {"tag", Value::string("t")}}));
  ASSERT_TRUE(rt.flush(kFlush));
  Db db(store.path());
  for (const char* name : {"config", "Inner", "Outer"}) {
    std::string val = db.text(std::string("SELECT val_dump FROM objects WHERE object_id='") + name + "'");
    std::string digest = db.text(std::string("SELECT digest FROM objects WHERE object_id='") + name + "'");
    ASSERT_FALSE(val.empty()) << name;
    EXPECT_EQ(run("printf %s " + shell_quote(val) + " | " WEFT_CLI_PATH " digest"), digest) << name;
    std::string py =
        "import sys,json,hashlib,base64; v=json.loads(sys.stdin.read()); "
        "c=json.dumps(v, sort_keys=True); "
        "print(base64.urlsafe_b64encode(hashlib.sha256(c.encode()).digest()).decode()"
        ".rstrip('=').replace('-','X').replace('_','Y'))";
    EXPECT_EQ(run("printf %s " + shell_quote(val) + " | python3 -c " + shell_quote(py)), digest) << name;
  }
  EXPECT_EQ(plain.digest(), db.text("SELECT digest FROM objects WHERE object_id='config'"));
  EXPECT_EQ(outer.digest(), db.text("SELECT digest FROM objects WHERE object_id='Outer'"));
}

}  // namespace
}  // namespace weft
