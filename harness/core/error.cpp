#include "harness/core/error.hpp"

#include <cerrno>
#include <cstring>

namespace ipcg {

tl::unexpected<Error> sys_fail(const std::string& what) {
  const int saved = errno;
  return fail(Errc::system, what + ": " + std::strerror(saved));
}

Error with_context(Error error, const std::string& context) {
  error.message = context + ": " + error.message;
  return error;
}

}  // namespace ipcg
