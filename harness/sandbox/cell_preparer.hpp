// Cells made ahead: a thread of the Sandbox makes the next cell while the current test runs, so
// that opening a cell (namespaces, root, cgroups) overlaps with the work instead of adding to it.
// One cell in the making at a time; a prepared cell fits only the limits it was made for.
//
//   CellPreparer cells([this](const Limits& l) { return start(l); }, /*ahead=*/true);
//   IPCG_TRY(auto core, cells.take(limits));   // the prepared cell, or one made now
//   cells.stop();                               // before what start() uses goes away
//
// The keepers the thread makes die with it (PR_SET_PDEATHSIG): it lives until stop().
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "harness/core/error.hpp"
#include "harness/sandbox/sandbox.hpp"

namespace ipcg::internal {

class CellPreparer {
 public:
  using Start = std::function<Result<std::shared_ptr<Cell::Core>>(const Limits&)>;
  // ahead = false: every take() makes its cell on demand (the benchmarks of the cold path).
  CellPreparer(Start start, bool ahead);
  ~CellPreparer();  // stop()
  CellPreparer(const CellPreparer&) = delete;
  CellPreparer& operator=(const CellPreparer&) = delete;

  Result<std::shared_ptr<Cell::Core>> take(const Limits& limits);
  void stop();  // closes the prepared cell and joins the thread; idempotent

 private:
  void make_spares();

  Start start_;
  bool ahead_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::optional<Limits> wanted_;          // the limits of the last cell asked for
  std::shared_ptr<Cell::Core> ready_;     // a cell made for ready_limits_, unused
  Limits ready_limits_;
  std::optional<Limits> building_;        // the limits of the cell being made now
  bool stopping_ = false;
  std::thread maker_;
};

}  // namespace ipcg::internal
