// The embedding API: compile errors come back with their location; batch
// and point evaluation answer alike; unknown and blocked friends are in no
// segment.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "runtime/api/runtime.h"

namespace seg {
namespace {

const char* kProgram = R"(
schema {
  points: int
  event purchase(price: int)
}
segment rich = points >= 100
segment buyer = exists(purchase, within 7d)
segment rich_buyer = rich and sum(purchase.price, within 30d) > 500
)";

constexpr std::int64_t kNow = 1790000000;

UserId user(int n) { return *UserId::parse(fmt::format("U{:032x}", n)); }

class RuntimeApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    program_ = CompiledProgram::fromText("api.seg", kProgram);
    state_ = std::make_unique<StoreState>(program_->ir().schema);
    const auto points = static_cast<std::uint32_t>(*program_->ir().schema.attribute("points"));
    const auto purchase = static_cast<std::uint32_t>(*program_->ir().schema.event("purchase"));
    std::vector<Mutation> changes;
    for (int n = 0; n < 50; ++n) {
      Mutation set = Mutation::of(Mutation::Kind::SetAttribute, user(n));
      set.index = points;
      set.value = Value::ofInt(n * 5);
      changes.push_back(set);
      if (n % 3 == 0) {
        Mutation buy = Mutation::of(Mutation::Kind::AppendEvent, user(n));
        buy.index = purchase;
        buy.time = kNow - n * 3600 * 12;  // every 3rd friend, further back each time
        buy.fields = {Value::ofInt(n * 40)};
        changes.push_back(buy);
      }
    }
    Mutation block = Mutation::of(Mutation::Kind::Unfollow, user(45));
    block.time = kNow - 10;
    changes.push_back(block);
    state_->apply(changes);
  }

  std::shared_ptr<const CompiledProgram> program_;
  std::unique_ptr<StoreState> state_;
};

TEST(CompiledProgramTest, ErrorsCarryTheirLocation) {
  try {
    CompiledProgram::fromText("bad.seg", "schema { points: int }\nsegment a = pointz > 3\n");
    FAIL() << "a misspelt attribute compiled";
  } catch (const ProgramError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.seg:2:13"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("pointz"), std::string::npos) << e.what();
  }
}

TEST(CompiledProgramTest, MissingFileIsAProgramError) {
  EXPECT_THROW(CompiledProgram::fromFile("/nonexistent/x.seg"), ProgramError);
}

TEST_F(RuntimeApiTest, PointAndBatchEvaluationAgree) {
  for (bool jit : {true, false}) {
    Runtime runtime(program_, *state_, RuntimeOptions{jit});
    for (const char* segment : {"rich", "buyer", "rich_buyer"}) {
      const Bitmap batch = runtime.members(segment, kNow);
      EXPECT_GT(batch.cardinality(), 0u) << segment;
      for (int n = 0; n < 50; ++n) {
        const std::uint32_t id = *state_->friends().find(user(n));
        EXPECT_EQ(runtime.isMember(segment, user(n), kNow), batch.contains(id)) << segment << " friend " << n;
      }
    }
  }
}

TEST_F(RuntimeApiTest, WhatTheSegmentsMean) {
  Runtime runtime(program_, *state_);
  // points = n*5 >= 100 for n >= 20, minus the blocked friend 45.
  EXPECT_EQ(runtime.members("rich", kNow).cardinality(), 29u);
  // Purchases at n*12h ago for n = 0, 3, ..., 12 are within 7 days (168h > n*12h).
  EXPECT_EQ(runtime.members("buyer", kNow).cardinality(), 5u);
  EXPECT_TRUE(runtime.isMember("buyer", user(12), kNow));
  EXPECT_FALSE(runtime.isMember("buyer", user(15), kNow));
}

TEST_F(RuntimeApiTest, UnknownAndBlockedFriendsAreInNoSegment) {
  Runtime runtime(program_, *state_);
  EXPECT_FALSE(runtime.isMember("rich", user(4242), kNow));
  EXPECT_FALSE(runtime.isMember("rich", user(45), kNow));
  EXPECT_TRUE(runtime.isMember("rich", user(46), kNow));
}

TEST_F(RuntimeApiTest, UnknownSegmentIsAnError) {
  Runtime runtime(program_, *state_);
  EXPECT_THROW(runtime.members("richh", kNow), SegmentError);
  EXPECT_THROW(runtime.isMember("richh", user(1), kNow), SegmentError);
}

}  // namespace
}  // namespace seg
