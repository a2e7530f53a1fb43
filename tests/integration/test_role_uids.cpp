// Role uids without root (`full (user namespace)`): the grader as nobody, with and without a
// subordinate id range for nobody in /etc/subuid and /etc/subgid (SubordinateIds adds one and
// restores both files). A host-wide change, so these tests run alone (RUN_SERIAL); the hostile
// corpus runs its `role_uids = true` cases at this level too (test_hostile).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "run_grader.hpp"
#include "support/nobodys_install.hpp"
#include "support/subordinate_ids.hpp"

namespace fs = std::filesystem;
using ipcg::testing::NobodysInstall;
using ipcg::testing::SubordinateIds;

namespace {

class RoleUidsAsNobody : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to add nobody's subordinate ids and run as nobody";
    if (::access("/usr/bin/newuidmap", X_OK) != 0) GTEST_SKIP() << "newuidmap is not installed (Debian package uidmap)";
    install_.emplace(ipcg::testing::kSource, IPCG_BINARY_DIR, IPCG_GRADER);
    ASSERT_TRUE(install_->ok()) << "could not copy the grader where nobody may read it";
    std::string tmp = (fs::temp_directory_path() / "ipcg-roleuids-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmp.data()), nullptr);
    tmpdir_ = tmp;
    ASSERT_EQ(::chown(tmpdir_.c_str(), NobodysInstall::kNobody, NobodysInstall::kNobody), 0);
  }
  void TearDown() override {
    std::error_code ec;
    if (!tmpdir_.empty()) fs::remove_all(tmpdir_, ec);
  }

  ipcg::testing::GraderRun grade(std::vector<std::string> extra) {
    std::vector<std::string> args = {"run", "lab1"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto env = install_->env();
    env.push_back("TMPDIR=" + tmpdir_.string());
    auto run = ipcg::testing::run_grader(args, env, install_->grader_path().string(),
                                         {.uid = static_cast<int>(NobodysInstall::kNobody)});
    EXPECT_TRUE(ipcg::testing::leftover_children().empty());
    EXPECT_TRUE(fs::is_empty(tmpdir_)) << "the work folder was left in " << tmpdir_;
    return run;
  }
  // The checkout may sit in a folder nobody cannot enter: lab1's reference from the install's copy.
  std::string reference() const {
    return (install_->grader_path().parent_path().parent_path() / "share/ipcgrade/reference/lab1-pipe").string();
  }

  std::optional<NobodysInstall> install_;
  fs::path tmpdir_;
};

bool refused(const nlohmann::json& j) { return j["isolation"]["setting"] == "user namespaces refused"; }

// The whole of lab1 as a student's laptop with the uidmap package and its subordinate ids
// would grade it: every role its own uid, full marks, and the report says so.
TEST_F(RoleUidsAsNobody, GradesWithFullIsolationInAUserNamespace) {
  const SubordinateIds ids;
  ASSERT_TRUE(ids.ok()) << "could not add nobody's range to /etc/subuid and /etc/subgid";
  auto run = grade({"--submission", reference(), "--format", "json"});
  ASSERT_EQ(run.exit_code, 0) << run.err << run.out.substr(0, 4000);
  const auto j = nlohmann::json::parse(run.out);
  if (refused(j)) GTEST_SKIP() << "this host refuses unprivileged user namespaces: " << j["isolation"]["reason"];
  EXPECT_EQ(j["isolation"]["level"], "full");
  EXPECT_EQ(j["isolation"]["setting"], "user namespace");
  EXPECT_NE(j["isolation"]["reason"].get<std::string>().find("uids of their own"), std::string::npos)
      << j["isolation"]["reason"];
  EXPECT_EQ(j["score"], j["max_score"]);
}

TEST_F(RoleUidsAsNobody, TextReportNamesTheLevel) {
  const SubordinateIds ids;
  ASSERT_TRUE(ids.ok());
  auto run = grade({"--submission", reference(), "--only", "children_reaped", "--color", "never"});
  ASSERT_EQ(run.exit_code, 0) << run.err << run.out;
  if (run.out.find("user namespaces refused") != std::string::npos) GTEST_SKIP() << run.out;
  EXPECT_NE(run.out.find("isolation: full (user namespace) — each cell is a user namespace of its own"),
            std::string::npos)
      << run.out;
}

// No range for nobody: the cell is still a user namespace, every role one uid, and the reason
// says why there are no role uids.
TEST_F(RoleUidsAsNobody, WithoutSubordinateIdsRolesShareOneUid) {
  auto run = grade({"--submission", reference(), "--only", "children_reaped", "--format", "json"});
  ASSERT_EQ(run.exit_code, 0) << run.err << run.out;
  const auto j = nlohmann::json::parse(run.out);
  if (refused(j)) GTEST_SKIP() << "this host refuses unprivileged user namespaces: " << j["isolation"]["reason"];
  EXPECT_EQ(j["isolation"]["level"], "user_namespace_without_role_uids");
  const std::string reason = j["isolation"]["reason"];
  EXPECT_NE(reason.find("no role uids (/etc/subuid gives nobody no range of 3 or more subordinate ids)"),
            std::string::npos)
      << reason;
  EXPECT_NE(reason.find("roles share one uid"), std::string::npos) << reason;
  EXPECT_EQ(j["score"], j["max_score"]);
}

}  // namespace
