// Errors are values: every fallible call returns Result<T>, and IPCG_TRY propagates.
//
//   Result<UniqueFd> open_input(const std::string& path);
//   Result<void> setup() {
//     IPCG_TRY(auto fd, open_input("x"));        // returns the error upward on failure
//     if (bad) return fail(Errc::config, "lab.toml:3:1: key 'tests' ...");
//     return {};
//   }
//
// The CLI maps Errc to exit codes (usage/config -> 2, the rest -> 3).
#pragma once

#include <string>
#include <tl/expected.hpp>

namespace ipcg {

enum class Errc {
  usage,     // the user asked for something that does not exist or makes no sense
  config,    // a lab.toml or other input file is malformed
  io,        // a file could not be read or written
  system,    // a system call failed (the message carries strerror)
  internal,  // a bug in the grader
};

struct Error {
  Errc code = Errc::internal;
  std::string message;
};

template <class T>
using Result = tl::expected<T, Error>;

inline tl::unexpected<Error> fail(Errc code, std::string message) {
  return tl::unexpected<Error>(Error{code, std::move(message)});
}

// A system error: "what: strerror(errno)"; reads errno at the call.
tl::unexpected<Error> sys_fail(const std::string& what);

// Prefixes context onto an error's message: "building student: " + original.
Error with_context(Error error, const std::string& context);

}  // namespace ipcg

#define IPCG_CONCAT_INNER(a, b) a##b
#define IPCG_CONCAT(a, b) IPCG_CONCAT_INNER(a, b)
#define IPCG_TRY_IMPL(tmp, decl, expr)                               \
  auto&& tmp = (expr);                                               \
  if (!tmp) return ::tl::unexpected<::ipcg::Error>(std::move(tmp).error()); \
  decl = std::move(*tmp)
// IPCG_TRY(auto x, call()) declares x from a successful Result or returns its error.
#define IPCG_TRY(decl, expr) IPCG_TRY_IMPL(IPCG_CONCAT(ipcg_try_, __LINE__), decl, expr)
// IPCG_CHECK(call()) for Result<void>: returns the error or goes on.
#define IPCG_CHECK(expr)                                                            \
  do {                                                                              \
    auto&& ipcg_check_ = (expr);                                                    \
    if (!ipcg_check_) return ::tl::unexpected<::ipcg::Error>(std::move(ipcg_check_).error()); \
  } while (0)
