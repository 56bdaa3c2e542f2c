// Status, Result<T> and StatusError: codes survive context, OK is never an error, and an
// error is never OK.
#include <weft/status.h>

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace weft {
namespace {

TEST(Status, OkHasNoCodeOrMessage) {
  Status s;
  EXPECT_TRUE(s.is_ok());
  EXPECT_TRUE(static_cast<bool>(s));
  EXPECT_EQ(s.code(), StatusCode::kOk);
  EXPECT_EQ(s.message(), "");
  EXPECT_EQ(s.to_string(), "ok");
}

TEST(Status, NamedConstructorsSetTheirCode) {
  const std::pair<Status, StatusCode> cases[] = {
      {Status::invalid_argument("m"), StatusCode::kInvalidArgument},
      {Status::not_found("m"), StatusCode::kNotFound},
      {Status::already_exists("m"), StatusCode::kAlreadyExists},
      {Status::failed_precondition("m"), StatusCode::kFailedPrecondition},
      {Status::resource_exhausted("m"), StatusCode::kResourceExhausted},
      {Status::unavailable("m"), StatusCode::kUnavailable},
      {Status::deadline_exceeded("m"), StatusCode::kDeadlineExceeded},
      {Status::cancelled("m"), StatusCode::kCancelled},
      {Status::internal("m"), StatusCode::kInternal},
  };
  for (const auto& [s, code] : cases) {
    EXPECT_FALSE(s.is_ok());
    EXPECT_EQ(s.code(), code);
    EXPECT_EQ(s.message(), "m");
    EXPECT_EQ(s.to_string(), std::string(status_code_name(code)) + ": m");
  }
}

TEST(Status, AnErrorBuiltWithTheOkCodeIsStillAnError) {
  Status s(StatusCode::kOk, "oops");
  EXPECT_FALSE(s.is_ok());
  EXPECT_EQ(s.code(), StatusCode::kInternal);
}

TEST(Status, ContextKeepsTheCode) {
  Status s = Status::unavailable("database is locked").with_context("call_end c1");
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "call_end c1: database is locked");
  EXPECT_TRUE(Status().with_context("anything").is_ok());
}

TEST(Result, HoldsAValueOrAStatus) {
  Result<std::string> good(std::string("v"));
  ASSERT_TRUE(good.is_ok());
  EXPECT_EQ(*good, "v");
  EXPECT_EQ(good.code(), StatusCode::kOk);
  EXPECT_TRUE(good.status().is_ok());
  EXPECT_EQ(good.error(), "");

  Result<std::string> bad(Status::not_found("no such object"));
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.code(), StatusCode::kNotFound);
  EXPECT_EQ(bad.error(), "no such object");
  EXPECT_EQ(bad.status().code(), StatusCode::kNotFound);
}

TEST(Result, FromAnOkStatusIsAnInternalError) {
  Result<int> r{Status()};
  EXPECT_FALSE(r.is_ok());
  EXPECT_EQ(r.code(), StatusCode::kInternal);
}

TEST(Result, MoveOnlyValues) {
  Result<std::unique_ptr<int>> r(std::make_unique<int>(7));
  ASSERT_TRUE(r);
  std::unique_ptr<int> p = std::move(r).value();
  EXPECT_EQ(*p, 7);
}

TEST(StatusError, CarriesTheStatus) {
  try {
    throw StatusError(Status::invalid_argument("project must be \"entity/project\""));
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "invalid argument: project must be \"entity/project\"");
    const auto* se = dynamic_cast<const StatusError*>(&e);
    ASSERT_NE(se, nullptr);
    EXPECT_EQ(se->status().code(), StatusCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace weft
