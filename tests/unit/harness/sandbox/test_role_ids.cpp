// Reading /etc/subuid-format text (role_ids.hpp): the range newuidmap would accept for a user.
#include <gtest/gtest.h>

#include "role_ids.hpp"

namespace ipcg::internal {
namespace {

TEST(SubordinateRange, FindsTheUsersLineByNameOrUid) {
  const std::string text = "alice:100000:65536\nnobody:1800000000:65536\n";
  auto range = find_subordinate_range(text, "nobody", 65534, 3);
  ASSERT_TRUE(range);
  EXPECT_EQ(range->start, 1800000000u);
  EXPECT_EQ(range->count, 65536u);
  range = find_subordinate_range("65534:200000:10\n", "nobody", 65534, 3);
  ASSERT_TRUE(range);
  EXPECT_EQ(range->start, 200000u);
}

TEST(SubordinateRange, SkipsCommentsMalformedAndTooSmallRanges) {
  const std::string text =
      "# nobody:1:100\n\nnobody:x:100\nnobody:5:\nnobody:300000:2\nnobodyx:1:100\nnobody:400000:3";
  auto range = find_subordinate_range(text, "nobody", 65534, 3);
  ASSERT_TRUE(range);
  EXPECT_EQ(range->start, 400000u);  // the last line has no newline: still read
  EXPECT_EQ(range->count, 3u);
}

TEST(SubordinateRange, NoneForAnotherUserOrAnEmptyFile) {
  EXPECT_FALSE(find_subordinate_range("alice:100000:65536\n", "nobody", 65534, 3));
  EXPECT_FALSE(find_subordinate_range("", "nobody", 65534, 3));
}

TEST(RoleIdMap, ArgumentsMapTheCellsRootAndEachRoleToOneId) {
  RoleIdMap map;
  map.uid = 1000;
  map.gid = 1001;
  map.uids = {100000, 65536};
  map.gids = {200000, 65536};
  map.newuidmap = "/usr/bin/newuidmap";
  map.newgidmap = "/usr/bin/newgidmap";
  EXPECT_EQ(map.args(42, false), (std::vector<std::string>{"/usr/bin/newuidmap", "42", "0", "1000", "1", "60999",
                                                            "100002", "1", "61000", "100000", "1", "62000", "100001", "1"}));
  EXPECT_EQ(map.args(42, true)[3], "1001");
  EXPECT_EQ(map.args(42, true)[9], "200000");
}

}  // namespace
}  // namespace ipcg::internal
