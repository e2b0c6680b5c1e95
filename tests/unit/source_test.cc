#include <gtest/gtest.h>

#include "compiler/source/source.h"

namespace seg {
namespace {

TEST(Utf8, DecodesMultiByteAndRejectsInvalid) {
  char32_t cp = 0;
  EXPECT_EQ(utf8::decode("a", 0, cp), 1u);
  EXPECT_EQ(cp, U'a');
  EXPECT_EQ(utf8::decode("東", 0, cp), 3u);
  EXPECT_EQ(cp, U'東');
  EXPECT_EQ(utf8::decode("\xF0\x9F\x8E\x81", 0, cp), 4u);  // 🎁
  EXPECT_EQ(utf8::decode("\xFF", 0, cp), 0u);
  EXPECT_EQ(utf8::decode("\xC0\x80", 0, cp), 0u);          // overlong NUL
  EXPECT_EQ(utf8::decode("\xED\xA0\x80", 0, cp), 0u);      // surrogate
  EXPECT_EQ(utf8::decode("\xE6\x9D", 0, cp), 0u);          // truncated
}

TEST(Utf8, DisplayWidthCountsWideCharactersTwice) {
  EXPECT_EQ(utf8::displayWidth("abc"), 3);
  EXPECT_EQ(utf8::displayWidth("東京都"), 6);
  EXPECT_EQ(utf8::displayWidth("ＶＩＰ"), 6);
  EXPECT_EQ(utf8::displayWidth("ｶﾀｶﾅ"), 4);  // half-width katakana
}

TEST(SourceFile, RepairsInvalidUtf8AndRecordsWhere) {
  const SourceFile file("x.seg", "ab\ncd\xFF" "e\n");
  ASSERT_EQ(file.invalidUtf8().size(), 1u);
  EXPECT_EQ(file.invalidUtf8()[0].position, (SourcePosition{2, 3}));
  EXPECT_EQ(file.invalidUtf8()[0].byte, 0xFF);
  EXPECT_EQ(file.line(2), "cd\xEF\xBF\xBD" "e");
}

TEST(SourceFile, LinesWithoutTerminators) {
  const SourceFile file("x.seg", "one\r\ntwo\nthree");
  EXPECT_EQ(file.lineCount(), 3u);
  EXPECT_EQ(file.line(1), "one");
  EXPECT_EQ(file.line(2), "two");
  EXPECT_EQ(file.line(3), "three");
  EXPECT_EQ(file.line(4), "");
}

TEST(SourceManager, MissingFileIsAnError) {
  SourceManager sources;
  std::string error;
  EXPECT_FALSE(sources.load("/nonexistent/file.seg", error));
  EXPECT_EQ(error, "No such file or directory");
  EXPECT_FALSE(sources.load("/tmp", error));
  EXPECT_EQ(error, "is a directory");
}

TEST(Utf8, ByteOffsetOfColumn) {
  EXPECT_EQ(utf8::byteOffsetOfColumn("東京x", 1), 0u);
  EXPECT_EQ(utf8::byteOffsetOfColumn("東京x", 2), 3u);
  EXPECT_EQ(utf8::byteOffsetOfColumn("東京x", 3), 6u);
  EXPECT_EQ(utf8::byteOffsetOfColumn("東京x", 9), 7u);
}

}  // namespace
}  // namespace seg
