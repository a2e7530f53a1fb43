// Turns a lab's list of syscall sets (syscall_sets.cpp, the data) into a BPF allow-list with
// libseccomp, once, in the grader. The child only runs install(): one prctl.
#include "harness/seccomp/seccomp_filter.hpp"

#include <fcntl.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <linux/seccomp.h>
#include <memory>
#include <set>
#include <string_view>

#include "harness/core/unique_fd.hpp"
#include "syscall_sets.hpp"

namespace ipcg {
namespace {

using internal::ArgRule;
using internal::SyscallSet;

struct CtxDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};
using ScopedCtx = std::unique_ptr<void, CtxDeleter>;

tl::unexpected<Error> seccomp_fail(const std::string& what, int rc) {
  return fail(Errc::system, "seccomp " + what + ": " + std::strerror(-rc));
}

// Resolves a name for this architecture; __NR_SCMP_ERROR when the arch lacks the call.
int resolve(std::string_view name) { return seccomp_syscall_resolve_name(std::string(name).c_str()); }

bool is_killed(std::string_view name) {
  const auto& killed = internal::always_killed();
  return std::find(killed.begin(), killed.end(), name) != killed.end();
}

Result<std::vector<const SyscallSet*>> lookup_sets(const std::vector<std::string>& names) {
  std::vector<const SyscallSet*> listed;
  for (const std::string& name : names) {
    const SyscallSet* set = internal::find_syscall_set(name);
    if (!set) {
      std::string known;
      for (const std::string& k : SeccompFilter::known_sets()) known += (known.empty() ? "" : ", ") + k;
      return fail(Errc::config, "unknown syscall set '" + name + "' (known: " + known + ")");
    }
    if (std::find(listed.begin(), listed.end(), set) == listed.end()) listed.push_back(set);
  }
  return listed;
}

// Base first, then the lab's sets.
std::vector<const SyscallSet*> with_base(std::vector<const SyscallSet*> listed) {
  listed.insert(listed.begin(), &internal::base_set());
  return listed;
}

// Calls some set allows outright; a dangerous call stays out even if a set names it.
std::set<std::string_view> outright_calls(const std::vector<const SyscallSet*>& sets) {
  std::set<std::string_view> calls;
  for (const SyscallSet* set : sets)
    for (std::string_view call : set->calls)
      if (!is_killed(call)) calls.insert(call);
  return calls;
}

Result<void> add_rule(scmp_filter_ctx ctx, uint32_t action, std::string_view name,
                      std::vector<scmp_arg_cmp> args = {}) {
  const int nr = resolve(name);
  if (nr == __NR_SCMP_ERROR) return {};  // not on this architecture
  const int rc = seccomp_rule_add_array(ctx, action, nr, static_cast<unsigned>(args.size()),
                                        args.empty() ? nullptr : args.data());
  // The same argument rule from two sets (clone in "process" and "compiler") is not an error.
  if (rc < 0 && rc != -EEXIST) return seccomp_fail("rule for " + std::string(name), rc);
  return {};
}

// One argument-checked allow rule per accepted value. Allow rules compare the 32-bit argument
// zero-extended to 64 bits: a caller who sets high bits matches no rule and gets the default
// (denied), though the kernel would read only the low 32 — the safe direction for the flatpak
// bypass. clone reads only the low 32 bits of its flags, so the namespace check masks those.
Result<void> add_checked(scmp_filter_ctx ctx, const SyscallSet& set, std::string_view call) {
  switch (set.rule) {
    case ArgRule::socket_family:
      for (int family : set.families) {
        if (call == "socketpair" && family != AF_UNIX) continue;
        IPCG_CHECK(add_rule(ctx, SCMP_ACT_ALLOW, call, {SCMP_A0_32(SCMP_CMP_EQ, static_cast<uint32_t>(family))}));
      }
      return {};
    case ArgRule::clone_no_ns:
      return add_rule(ctx, SCMP_ACT_ALLOW, call,
                      {SCMP_A0_64(SCMP_CMP_MASKED_EQ, internal::clone_namespace_flags(), 0)});
    case ArgRule::mknod_fifo: {
      const unsigned mode_arg = call == "mknodat" ? 2 : 1;
      scmp_arg_cmp cmp = SCMP_CMP32(mode_arg, SCMP_CMP_MASKED_EQ, S_IFMT, S_IFIFO);
      return add_rule(ctx, SCMP_ACT_ALLOW, call, {cmp});
    }
    case ArgRule::ioctl_no_sti:
      // Every request but TIOCSTI: allowed below it and above it, and TIOCSTI itself (low 32
      // bits: the kernel reads no more, so TIOCSTI | 1 << 32 is TIOCSTI) kills like the other
      // escape calls. An unconditional allow would swallow the kill rule, so the allow is split.
      IPCG_CHECK(add_rule(ctx, SCMP_ACT_KILL_PROCESS, call,
                          {SCMP_A1_64(SCMP_CMP_MASKED_EQ, 0xFFFFFFFFull, static_cast<uint32_t>(TIOCSTI))}));
      IPCG_CHECK(add_rule(ctx, SCMP_ACT_ALLOW, call, {SCMP_A1_64(SCMP_CMP_LT, TIOCSTI)}));
      return add_rule(ctx, SCMP_ACT_ALLOW, call, {SCMP_A1_64(SCMP_CMP_GT, TIOCSTI)});
    case ArgRule::none: return {};
  }
  return {};
}

// prctl options 0..255 but PR_SET_DUMPABLE; everything else gets the filter's default, EPERM.
// A role runs non-dumpable (its real and effective gids differ at exec), so its /proc belongs to
// the cell's root: the grader's view where roles have uids of their own without root
// (docs/threat-model.md). Setting it dumpable again would hide the process from the grader.
// libseccomp takes one comparison per argument, so the range is cut into aligned blocks, each a
// masked compare of all 64 bits: an option with high bits set (the kernel reads an int, so
// PR_SET_DUMPABLE | 1 << 32 would be PR_SET_DUMPABLE) matches none. Options above 255 (Yama's
// PR_SET_PTRACER, PR_SET_VMA) are nothing a lab or a compiler needs.
Result<void> add_prctl_rules(scmp_filter_ctx ctx) {
  constexpr std::uint64_t kEnd = 256;
  for (std::uint64_t from = 0; from < kEnd;) {
    if (from == PR_SET_DUMPABLE) {
      ++from;
      continue;
    }
    std::uint64_t size = 1;  // the largest aligned block from `from` that ends before the gap or the end
    while (from % (size * 2) == 0 && from + size * 2 <= kEnd &&
           !(from <= PR_SET_DUMPABLE && PR_SET_DUMPABLE < from + size * 2))
      size *= 2;
    IPCG_CHECK(add_rule(ctx, SCMP_ACT_ALLOW, "prctl", {SCMP_A0_64(SCMP_CMP_MASKED_EQ, ~(size - 1), from)}));
    from += size;
  }
  return {};
}

Result<void> add_all_rules(scmp_filter_ctx ctx, const std::vector<const SyscallSet*>& sets) {
  for (std::string_view call : internal::always_killed())
    IPCG_CHECK(add_rule(ctx, SCMP_ACT_KILL_PROCESS, call));
  for (std::string_view call : internal::enosys_calls())
    IPCG_CHECK(add_rule(ctx, SCMP_ACT_ERRNO(ENOSYS), call));
  const std::set<std::string_view> outright = outright_calls(sets);
  for (std::string_view call : outright)
    IPCG_CHECK(call == "prctl" ? add_prctl_rules(ctx) : add_rule(ctx, SCMP_ACT_ALLOW, call));
  for (const SyscallSet* set : sets)
    for (std::string_view call : set->checked_calls)
      if (!outright.count(call) && !is_killed(call)) IPCG_CHECK(add_checked(ctx, *set, call));
  return {};
}

// libseccomp 2.5 exports only to an fd: a memfd, read back whole.
Result<std::string> export_to_string(scmp_filter_ctx ctx, int (*exporter)(const scmp_filter_ctx, int)) {
  UniqueFd fd(::memfd_create("ipcgrade-seccomp", MFD_CLOEXEC));
  if (!fd) return sys_fail("memfd_create");
  if (int rc = exporter(ctx, fd.get()); rc < 0) return seccomp_fail("export", rc);
  if (::lseek(fd.get(), 0, SEEK_SET) < 0) return sys_fail("lseek");
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_fail("read seccomp export");
    if (n == 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

std::string family_name(int family) {
  switch (family) {
    case AF_UNIX: return "AF_UNIX";
    case AF_INET: return "AF_INET";
    case AF_INET6: return "AF_INET6";
    default: return "family " + std::to_string(family);
  }
}

std::string checked_in_words(const SyscallSet& set, std::string_view call) {
  std::string words(call);
  switch (set.rule) {
    case ArgRule::socket_family: {
      std::string families;
      for (int f : set.families)
        if (call != "socketpair" || f == AF_UNIX) families += (families.empty() ? "" : ", ") + family_name(f);
      return words + " (" + families + " only)";
    }
    case ArgRule::clone_no_ns: return words + " (no CLONE_NEW* namespace flags)";
    case ArgRule::mknod_fifo: return words + " (S_IFIFO only)";
    case ArgRule::ioctl_no_sti: return words + " (TIOCSTI, typing into a terminal, kills)";
    case ArgRule::none: return words;
  }
  return words;
}

// A set in words, showing each call once: under the first set (base first) that allows it.
SyscallGroup group_in_words(const SyscallSet& set, std::set<std::string_view>& shown) {
  SyscallGroup group{std::string(set.name), std::string(set.purpose), {}, {}};
  for (std::string_view call : set.calls)
    if (!is_killed(call) && shown.insert(call).second) group.allowed.emplace_back(call);
  for (std::string_view call : set.checked_calls)
    if (!is_killed(call) && !shown.count(call)) group.checked.push_back(checked_in_words(set, call));
  return group;
}

}  // namespace

std::vector<std::string> SeccompFilter::known_sets() {
  std::vector<std::string> names;
  for (const SyscallSet& set : internal::named_sets()) names.emplace_back(set.name);
  return names;
}

std::vector<std::string> SeccompFilter::sets_for_network(const std::vector<std::string>& sets,
                                                         bool own_network_namespace) {
  std::vector<std::string> kept;
  for (const auto& name : sets) {
    const SyscallSet* set = internal::find_syscall_set(name);
    if (set && set->needs_own_network && !own_network_namespace) continue;
    kept.push_back(name);
  }
  return kept;
}

Result<SeccompFilter> SeccompFilter::compile(const std::vector<std::string>& allowed_sets) {
  IPCG_TRY(auto listed, lookup_sets(allowed_sets));
  // EPERM for whatever no set allows: the student's code sees a failed call it can report.
  ScopedCtx ctx(seccomp_init(SCMP_ACT_ERRNO(EPERM)));
  if (!ctx) return fail(Errc::system, "seccomp_init failed");
  // A foreign-arch call (int 0x80) or an x32 number would bypass rules written for x86_64.
  if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS); rc < 0)
    return seccomp_fail("badarch attribute", rc);
  if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2); rc < 0)
    return seccomp_fail("optimize attribute", rc);
  IPCG_CHECK(add_all_rules(ctx.get(), with_base(listed)));

  SeccompFilter filter;
  IPCG_TRY(std::string bpf, export_to_string(ctx.get(), seccomp_export_bpf));
  if (bpf.empty() || bpf.size() % sizeof(sock_filter) != 0)
    return fail(Errc::internal, "seccomp export gave " + std::to_string(bpf.size()) + " bytes");
  filter.program_.resize(bpf.size() / sizeof(sock_filter));
  std::memcpy(filter.program_.data(), bpf.data(), bpf.size());
  IPCG_TRY(filter.pfc_, export_to_string(ctx.get(), seccomp_export_pfc));
  return filter;
}

Result<SyscallPolicy> SeccompFilter::describe(const std::vector<std::string>& allowed_sets) {
  IPCG_TRY(auto listed, lookup_sets(allowed_sets));
  SyscallPolicy policy;
  std::set<std::string_view> shown;
  for (const SyscallSet* set : with_base(listed)) policy.groups.push_back(group_in_words(*set, shown));
  for (std::string_view call : internal::always_killed()) policy.killed.emplace_back(call);
  for (std::string_view call : internal::enosys_calls()) policy.enosys.emplace_back(call);
  return policy;
}

int SeccompFilter::install() const {
  sock_fprog prog{};
  prog.len = static_cast<unsigned short>(program_.size());
  prog.filter = const_cast<sock_filter*>(program_.data());
  // The kernel requires no_new_privs (or CAP_SYS_ADMIN); the sandbox sets it just before.
  if (::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) != 0) return -errno;
  return 0;
}

}  // namespace ipcg
