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

// The tag is "<grader pid>-<serial>" (Cell::tag); anything else is hashed whole.
std::uint16_t IpcNames::port(std::string_view what) const {
  auto fnv = [](std::string_view text) {
    std::uint64_t h = 14695981039346656037ull;
    for (unsigned char c : text) h = (h ^ c) * 1099511628211ull;
    return h;
  };
  const std::string_view tag = tag_;
  const auto dash = tag.rfind('-');
  std::uint64_t serial = 0;
  bool numeric = dash != std::string_view::npos && dash + 1 < tag.size();
  for (size_t i = numeric ? dash + 1 : tag.size(); i < tag.size(); ++i) {
    if (tag[i] < '0' || tag[i] > '9') numeric = false;
    else serial = serial * 10 + static_cast<unsigned>(tag[i] - '0');
  }
  const std::uint64_t blocks = kPorts / kPortsPerCell;
  const std::uint64_t block = numeric ? (fnv(tag.substr(0, dash)) + serial) % blocks : fnv(tag) % blocks;
  return static_cast<std::uint16_t>(kFirstPort + block * kPortsPerCell + fnv(what) % kPortsPerCell);
}

}  // namespace ipcg
