// validate_project_id on its own: W&B's entity and project name rules as weft applies them
// (docs/COMPATIBILITY.md#project-names), with the rule each rejection names.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "runtime/core/runtime_core.h"

namespace weft {
namespace {

std::string repeat(const std::string& s, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

// The message of the rejection, or "" if the id is accepted.
std::string rejection(const std::string& id) {
  const Status s = validate_project_id(id);
  if (s.is_ok()) return "";
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.message();
  return s.message();
}

void expect_rejected(const std::string& id, const std::string& rule) {
  const std::string m = rejection(id);
  EXPECT_NE(m.find(rule), std::string::npos) << "id: " << id << "\nmessage: " << m;
}

TEST(ProjectName, AcceptsWandbNames) {
  const std::vector<std::string> ok = {
      "weft/default",
      "test-entity/test-project",
      "a/b",
      "wandb_fc/LayerNorm",                   // underscores in an entity, capitals in a project
      "team-2/My Project (v2) [draft] & co.",  // W&B project names may hold spaces, punctuation
      "e/a+b=c;d,e!f@g~h'i\"j*k<l>m|n",
      "e/проект-é",                            // any non-control Unicode
      "e/日本語のプロジェクト",
      "e/\xF0\x9F\x9A\x80 rocket",             // U+1F680: a 4-byte sequence
      repeat("a", 64) + "/p",                  // longest entity
      "e/" + repeat("p", 128),                 // longest project name, in bytes...
      "e/" + repeat("\xC3\xA9", 128),          // ...and in characters (256 bytes)
      "0123456789/_-",
  };
  for (const std::string& id : ok) EXPECT_EQ(rejection(id), "") << id;
}

TEST(ProjectName, RejectsAShapeOtherThanEntitySlashProject) {
  EXPECT_EQ(rejection("no-slash"), "project \"no-slash\": must be \"entity/project\"");
  EXPECT_EQ(rejection(""), "project \"\": must be \"entity/project\"");
  EXPECT_EQ(rejection("a/b/c"), "project \"a/b/c\": must be \"entity/project\", with one '/'");
  EXPECT_EQ(rejection("//"), "project \"//\": must be \"entity/project\", with one '/'");
  EXPECT_EQ(rejection("/p"), "project \"/p\": the entity (before the '/') is empty");
  EXPECT_EQ(rejection("e/"), "project \"e/\": the project name (after the '/') is empty");
  EXPECT_EQ(rejection("/"), "project \"/\": the entity (before the '/') is empty");
}

TEST(ProjectName, RejectsControlCharactersAnywhere) {
  EXPECT_EQ(rejection("a/b\n"),
            "project \"a/b\\x0A\": must not contain control characters (U+000A at byte 3)");
  expect_rejected("e/a\tb", "control characters (U+0009 at byte 3)");
  expect_rejected(std::string("e/a\0b", 5), "control characters (U+0000 at byte 3)");
  expect_rejected("e\r/p", "control characters (U+000D at byte 1)");
  expect_rejected("e/a\x7F", "control characters (U+007F at byte 3)");
  expect_rejected("e/a\xC2\x85", "control characters (U+0085 at byte 3)");  // NEL, a C1 control
  expect_rejected("e/\x1B[31mred", "control characters (U+001B at byte 2)");
}

TEST(ProjectName, RejectsInvalidUtf8) {
  EXPECT_EQ(rejection("e/\xFF"), "project \"e/\\xFF\": not valid UTF-8 (byte 2)");
  expect_rejected("e/\xC0\xAF", "not valid UTF-8 (byte 2)");          // overlong '/'
  expect_rejected("e/ab\xED\xA0\x80", "not valid UTF-8 (byte 4)");    // a surrogate
  expect_rejected("e/\xE2\x82", "not valid UTF-8 (byte 2)");          // cut short
  expect_rejected("e/\xF4\x90\x80\x80", "not valid UTF-8 (byte 2)");  // above U+10FFFF
  expect_rejected("e/\x80", "not valid UTF-8 (byte 2)");              // a lone continuation
  expect_rejected("\xC3/p", "not valid UTF-8 (byte 0)");
}

TEST(ProjectName, RejectsEntitiesOutsideWandbsAlphabet) {
  EXPECT_EQ(rejection("a b/c d"),
            "project \"a b/c d\": the entity may contain only lowercase letters, digits, '-' "
            "and '_' (found ' ')");
  expect_rejected("Acme/p", "(found 'A')");
  expect_rejected("a.b/p", "(found '.')");
  expect_rejected("a:b/p", "(found ':')");
  expect_rejected("\xC3\xA9quipe/p", "(found U+00E9)");
  expect_rejected("\xF0\x9F\x9A\x80/p", "(found U+1F680)");
}

TEST(ProjectName, BoundsTheEntityAndTheProjectName) {
  const std::string m = rejection(repeat("a", 5000) + "/p");
  EXPECT_NE(m.find("the entity must be at most 64 characters (it has 5000)"), std::string::npos)
      << m;
  EXPECT_NE(m.find("... (5002 bytes)"), std::string::npos) << m;
  EXPECT_LT(m.size(), 200u) << "the message shows only the start of a huge id";
  expect_rejected(repeat("a", 65) + "/p", "at most 64 characters (it has 65)");
  expect_rejected("e/" + repeat("p", 129),
                  "the project name must be at most 128 characters (it has 129)");
  expect_rejected("e/" + repeat("\xC3\xA9", 129), "at most 128 characters (it has 129)");
  // A huge id of any kind is checked in one pass, and the message stays short.
  const std::string huge = "e/" + repeat("x", 1'000'000);
  EXPECT_LT(rejection(huge).size(), 200u);
}

TEST(ProjectName, RejectsWandbsForbiddenProjectCharacters) {
  for (const char c : std::string("\\#?%:")) {
    const std::string id = std::string("e/a") + c + "b";
    const std::string rule = "the project name must not contain any of / \\ # ? % : (found '";
    expect_rejected(id, rule + c + "')");
  }
}

TEST(ProjectName, EscapesWhatTheMessageShows) {
  // Quotes and backslashes escaped, control and invalid bytes as \xNN, valid UTF-8 kept.
  EXPECT_EQ(rejection("\"q\"\\\x01\xC3\xA9\xFF"),
            "project \"\\\"q\\\"\\\\\\x01\xC3\xA9\\xFF\": must be \"entity/project\"");
}

}  // namespace
}  // namespace weft
