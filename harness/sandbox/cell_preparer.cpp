#include "cell_preparer.hpp"

#include "sandbox_internal.hpp"

namespace ipcg::internal {
namespace {

// Cells differ only by their cgroup limits.
bool same_limits(const Limits& a, const Limits& b) {
  return a.memory_bytes == b.memory_bytes && a.processes == b.processes;
}

}  // namespace

CellPreparer::CellPreparer(Start start, bool ahead) : start_(std::move(start)), ahead_(ahead) {}

CellPreparer::~CellPreparer() { stop(); }

void CellPreparer::make_spares() {
  std::unique_lock lock(mu_);
  for (;;) {
    wake_.wait(lock, [&] { return stopping_ || (wanted_ && !ready_); });
    if (stopping_) return;
    const Limits limits = *wanted_;
    building_ = limits;
    lock.unlock();
    auto made = start_(limits);
    lock.lock();
    building_.reset();
    if (made) {
      ready_ = std::move(*made);
      ready_limits_ = limits;
    } else {
      wanted_.reset();  // the caller's own attempt will report the error
    }
    wake_.notify_all();
  }
}

Result<std::shared_ptr<Cell::Core>> CellPreparer::take(const Limits& limits) {
  if (!ahead_) return start_(limits);
  {
    std::unique_lock lock(mu_);
    if (!maker_.joinable()) maker_ = std::thread([this] { make_spares(); });
    // One cell in the making at a time: if it has our limits, wait for it rather than make a
    // second one beside it.
    wake_.wait(lock, [&] { return !building_ || !same_limits(*building_, limits); });
    std::shared_ptr<Cell::Core> cell;
    if (ready_ && same_limits(ready_limits_, limits)) cell = std::move(ready_);
    ready_.reset();  // a spare made for other limits is closed
    wanted_ = limits;
    wake_.notify_all();
    if (cell) return cell;
  }
  return start_(limits);
}

void CellPreparer::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    ready_.reset();
    wake_.notify_all();
  }
  if (maker_.joinable()) maker_.join();
  ready_.reset();
}

}  // namespace ipcg::internal
