#include "harness/core/ipc_names.hpp"

#include <sys/ipc.h>

#include <cstdint>

namespace ipcg {

std::string IpcNames::name(std::string_view what) const { return prefix() + std::string(what); }

// FNV-1a of the full name, folded to 31 bits: positive, and never IPC_PRIVATE (0), which would
// give every msgget its own queue.
key_t IpcNames::sysv_key(std::string_view what) const {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : name(what)) h = (h ^ c) * 1099511628211ull;
  const auto folded = static_cast<std::uint32_t>((h >> 32) ^ h) & 0x7fffffffu;
  return static_cast<key_t>(folded == IPC_PRIVATE ? 1 : folded);
}

}  // namespace ipcg
