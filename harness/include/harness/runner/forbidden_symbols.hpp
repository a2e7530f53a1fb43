// Symbols a lab forbids in the student's own object files ([build] forbidden_symbols in
// lab.toml): "the data must go through the mapping" is a policy no test output can show, so the
// runner lists the undefined symbols of each compiled object (nm, run in the sandbox like the
// compiler: the object is untrusted input) before linking, and a lab's check judges the uses.
//
//   uses = forbidden_uses(nm_output, lab.build.forbidden_symbols);   // runner, after compiling
//   if (auto bad = judge_forbidden_symbols(ctx, "copier")) return *bad; // a lab's check
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ipcg {

struct SymbolUse {
  std::string symbol;  // "read"
  std::string object;  // "mapcopy.o"
  bool operator==(const SymbolUse&) const = default;
};

// The argv that lists undefined symbols, one "OBJECT: SYMBOL U" line each (POSIX format).
std::vector<std::string> undefined_symbols_argv(const std::vector<std::string>& objects);

// The lines of `nm -A -P -u` output naming a forbidden symbol, in output order. A symbol with a
// version suffix ("read@GLIBC_2.2.5") counts as its bare name.
std::vector<SymbolUse> forbidden_uses(std::string_view nm_output, const std::vector<std::string>& forbidden);

// "mapcopy.o calls read, fread" (grouped by object, in order).
std::string describe_uses(const std::vector<SymbolUse>& uses);

}  // namespace ipcg
