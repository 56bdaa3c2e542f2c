// Digest tests. Every expected value was computed with python3:
//   hashlib.sha256(b).hexdigest() and
//   base64.urlsafe_b64encode(hashlib.sha256(b).digest()).decode().rstrip("=")
//         .replace("-", "X").replace("_", "Y")
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include <weft/digest.h>
#include <weft/json.h>
#include <weft/value.h>

#include "runtime/model/json_escape.h"

namespace weft {
namespace {

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(to_hex(Sha256::of("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(to_hex(Sha256::of("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(to_hex(Sha256::of(std::string_view("\0\xff\0", 3))),
            "2c8d07cd986f58eb210bd800133d6645c7340c59865377c8ea431cebca0b3113");
}

TEST(Sha256, IncrementalEqualsOneShot) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  Sha256 h;
  h.update(all.substr(0, 1));
  h.update("");
  h.update(all.substr(1, 100));
  h.update(all.substr(101));
  const Sha256Bytes incremental = h.finish();
  EXPECT_EQ(incremental, Sha256::of(all));
  EXPECT_EQ(to_hex(incremental),
            "40aff2e9d2d8922e47afd4648e6967497158785fbd1da870e7110266bf944880");
  // The per-thread context is reusable after finish().
  EXPECT_EQ(to_hex(Sha256::of("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(BaseDigest, KnownValues) {
  EXPECT_EQ(base_digest(""), "47DEQpj8HBSaXYTImWX5JCeuQeRkm5NMpJWZG3hSuFU");
  EXPECT_EQ(base_digest("abc"), "ungWv48BzXpBQUDeXa4iI7ADYaOWF3qctBDYYfIAFa0");
  EXPECT_EQ(base_digest("hello"), "LPJNulXwow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ");
  EXPECT_EQ(file_digest("hello"), base_digest("hello"));
}

TEST(BaseDigest, SubstitutesDashAndUnderscore) {
  // urlsafe base64 of sha256("0") is "X-zrZv_IbzjZUnhsbWlsecLbwjndTpG0ZynXOif7V-k=".
  EXPECT_EQ(base_digest("0"), "XXzrZvYIbzjZUnhsbWlsecLbwjndTpG0ZynXOif7VXk");
}

TEST(BaseDigest, ShapeOverManyInputs) {
  for (int i = 0; i < 1000; ++i) {
    const std::string d = base_digest(std::to_string(i));
    ASSERT_EQ(d.size(), kBaseDigestLength);
    ASSERT_EQ(d.find_first_not_of(
                  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"),
              std::string::npos)
        << d;
  }
}

TEST(TableDigest, EmptyTableIsSha256OfNothing) {
  EXPECT_EQ(table_digest({}), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(TableDigest, ConcatenatedRowDigests) {
  // Rows {"a": 1} and {"b": [1.5, "x"]}.
  const std::vector<std::string> rows = {"XdhgKMbg1k4iUYb5astpM4ssWXZN95FiEH9cS7NNExA",
                                         "TplYJadXpFBVqzZrDviDdcmQOCZhCA4YkK9qbkarPCw"};
  EXPECT_EQ(table_digest(rows),
            "382a693c566515e699bffbc0bba859943e3081b1cba23d0f229edbd33903a2d7");
  EXPECT_EQ(table_digest(rows).size(), kTableDigestLength);
}

TEST(ObjectDigest, KnownValues) {
  EXPECT_EQ(object_digest(Value::null()), "dCNOmKYnSYX12vHzasLXiswzlGT5UHA7jAGYkvmCuQs");
  EXPECT_EQ(object_digest(Value::dict({})), "RBNvo1WzZ4oRRq0W9XhknpT7T8If536DEMBg9hyqY4o");
  // {"b": 1, "a": "é"} -> {"a": "\u00e9", "b": 1}
  EXPECT_EQ(object_digest(
                Value::dict({{"b", Value::integer(1)}, {"a", Value::string("\xc3\xa9")}})),
            "1zkT77MJtZhs3JWS7IaXxaAkwiQM4yF893fTlsTjg60");
  EXPECT_EQ(object_digest(Value::dict({{"a", Value::integer(1)}})),
            "XdhgKMbg1k4iUYb5astpM4ssWXZN95FiEH9cS7NNExA");
  // {"b": [1.0, 1e16], "a": "é"}
  EXPECT_EQ(object_digest(Value::dict(
                {{"b", Value::list({Value::number(1.0), Value::number(1e16)})},
                 {"a", Value::string("\xc3\xa9")}})),
            "P0njQQhB7iGYYXLNMBuh7R8zT8sYOLaDtce107VEfDI");
}

TEST(ObjectDigest, EqualsBaseDigestOfCanonicalJson) {
  // Large enough to exceed the kept scratch buffer, then small again: every path agrees.
  std::vector<Value> items;
  for (int i = 0; i < 20000; ++i) items.push_back(Value::string("item " + std::to_string(i)));
  const Value big = Value::list(std::move(items));
  EXPECT_EQ(object_digest(big), base_digest(canonical_json(big)));
  const Value small = Value::list({Value::integer(1), Value::boolean(true)});
  // Enough small digests after the big one to release the big scratch buffer.
  for (int i = 0; i < 40; ++i) ASSERT_EQ(object_digest(small), base_digest(canonical_json(small)));
  EXPECT_EQ(object_digest(big), base_digest(canonical_json(big)));
}

// A ChildWriter that computes the child's digest inline re-enters object_digest while
// the parent's canonical JSON is still being written into the thread's scratch buffer.
class DigestingChildWriter : public ChildWriter {
 public:
  void write_child(const Value& child, std::string& out) override {
    append_json_string(object_digest(child), out);
  }
};

TEST(ObjectDigest, ReentrantChildWriterDoesNotCorruptScratch) {
  const Value child = make_object("Child", {{"x", Value::integer(7)}});
  const Value parent = make_object("Parent", {{"child", child}, {"after", Value::string("z")}});
  DigestingChildWriter writer;
  const std::string expected = base_digest(canonical_json(parent, &writer));
  EXPECT_EQ(object_digest(parent, &writer), expected);
}

TEST(Digest, ConcurrentThreadsAgree) {
  const Value v = Value::dict({{"k", Value::list({Value::number(0.5), Value::string("s")})}});
  const std::string expected = object_digest(v);
  std::vector<std::thread> threads;
  std::vector<int> mismatches(8, 0);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        if (object_digest(v) != expected) ++mismatches[t];
        if (base_digest("abc") != "ungWv48BzXpBQUDeXa4iI7ADYaOWF3qctBDYYfIAFa0") ++mismatches[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int m : mismatches) EXPECT_EQ(m, 0);
}

}  // namespace
}  // namespace weft
