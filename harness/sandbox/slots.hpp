// Slots: one uid per concurrent Sandbox (as isolate does), so that RLIMIT_NPROC and the right to
// kill are per box; its reference roles run as a second uid, kReferenceOffset above. Root only.
//
//   IPCG_TRY(internal::Slot slot, internal::claim_slot());   // held until destroyed (flock)
//   spawn as slot.uid (student, builds) or slot.reference_uid() (reference roles)
#pragma once

#include <sys/types.h>

#include "harness/core/error.hpp"
#include "harness/core/unique_fd.hpp"

namespace ipcg::internal {

constexpr uid_t kSlotBase = 61000;
constexpr int kSlotCount = 1000;
constexpr uid_t kReferenceOffset = 1000;

struct Slot {
  UniqueFd lock;  // flock held for the sandbox's lifetime
  uid_t uid = 0;  // student roles and builds
  gid_t gid = 0;
  uid_t reference_uid() const { return uid + kReferenceOffset; }
};

// The first slot whose lock we get and whose uids run nothing (a crashed grader's leftovers
// would count against RLIMIT_NPROC and could be signalled by the new tree). Lock files live in
// /run/ipcgrade (or /tmp/ipcgrade-slots), root-owned folders.
Result<Slot> claim_slot();

}  // namespace ipcg::internal
