// SHA-256 of a byte string, lowercase hex (FIPS 180-4). Used for lab.toml spec hashes.
//
//   std::string hex = sha256_hex(bytes);   // 64 hex digits
#pragma once

#include <string>
#include <string_view>

namespace ipcg {

std::string sha256_hex(std::string_view bytes);

}  // namespace ipcg
