// Role uids without root (`full (user namespace)`): the grader as nobody, with and without a
// subordinate id range for nobody in /etc/subuid and /etc/subgid (SubordinateIds adds one and
// restores both files). A host-wide change, so these tests run alone (RUN_SERIAL); the hostile
// corpus runs its `role_uids = true` cases at this level too (test_hostile).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "run_grader.hpp"
#include "support/nobodys_install.hpp"
#include "support/sample_expectation.hpp"
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

  // `grader run lab1 <extra>` as nobody; grade() then checks that nothing was left behind.
  ipcg::testing::GraderRun run_as_nobody(const std::vector<std::string>& extra) {
    std::vector<std::string> args = {"run", "lab1"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto env = install_->env();
    env.push_back("TMPDIR=" + tmpdir_.string());
    return ipcg::testing::run_grader(args, env, install_->grader_path().string(),
                                     {.uid = static_cast<int>(NobodysInstall::kNobody)});
  }
  void expect_nothing_left() {
    EXPECT_TRUE(ipcg::testing::leftover_children().empty());
    EXPECT_TRUE(fs::is_empty(tmpdir_)) << "the work folder was left in " << tmpdir_;
  }
  ipcg::testing::GraderRun grade(const std::vector<std::string>& extra) {
    auto run = run_as_nobody(extra);
    expect_nothing_left();
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

// Every lab1 sample as nobody with role uids fails exactly the tests its expect.toml declares, as
// under root (LabSubmission) and without role uids (LabSubmissionAsNobody). Two graders at a
// time: the samples are independent, and this test runs alone.
TEST_F(RoleUidsAsNobody, EveryLab1SampleFailsExactlyWhatItDeclares) {
  std::vector<fs::path> dirs;
  for (const auto& e : fs::directory_iterator(ipcg::testing::kSource + "/tests/submissions/lab1"))
    if (e.is_directory()) dirs.push_back(e.path());
  std::sort(dirs.begin(), dirs.end());
  ASSERT_GE(dirs.size(), 20u);
  install_.emplace(ipcg::testing::kSource, IPCG_BINARY_DIR, IPCG_GRADER, dirs);  // with the samples this time
  ASSERT_TRUE(install_->ok());
  const SubordinateIds ids;
  ASSERT_TRUE(ids.ok());
  struct Verdict {
    std::string level, error;
    std::set<std::string> failed;
  };
  std::vector<Verdict> verdicts(dirs.size());
  std::atomic<std::size_t> next{0};
  const auto work = [&] {
    for (std::size_t i; (i = next++) < dirs.size();) {
      const auto want = ipcg::testing::read_expectation(dirs[i]);
      std::vector<std::string> args = {"--submission", install_->submission(dirs[i].filename().string()).string(),
                                       "--format", "json", "--seed", "7", "--show-hidden", "--confirm", "0"};
      if (!want.only.empty()) args.insert(args.end(), {"--only", want.only});
      const auto run = run_as_nobody(args);
      try {
        const auto j = nlohmann::json::parse(run.out);
        verdicts[i].level = std::string(j["isolation"]["level"]) + " (" + std::string(j["isolation"]["setting"]) + ")";
        for (const auto& t : j["tests"])
          if (t["status"] != "passed" && t["status"] != "skipped") verdicts[i].failed.insert(t["name"]);
      } catch (const std::exception& e) {
        verdicts[i].error = e.what() + (": " + run.err);
      }
    }
  };
  std::thread second(work);
  work();
  second.join();
  expect_nothing_left();
  for (std::size_t i = 0; i < dirs.size(); ++i) {
    const auto want = ipcg::testing::read_expectation(dirs[i]);
    EXPECT_EQ(verdicts[i].error, "") << dirs[i].filename();
    if (verdicts[i].level == "reduced (user namespaces refused)") GTEST_SKIP() << "this host refuses user namespaces";
    EXPECT_EQ(verdicts[i].level, "full (user namespace)") << dirs[i].filename();
    EXPECT_EQ(verdicts[i].failed, want.fails) << dirs[i].filename();
  }
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
