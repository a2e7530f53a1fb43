// SHA-256 as specified in FIPS 180-4, section 6.2. Hand-written so that the spec hash needs no
// crypto library; it hashes a few kilobytes of lab.toml, so clarity beats speed here.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "harness/core/sha256.hpp"

namespace ipcg {
namespace {

// FIPS 180-4 4.2.2: the first 32 bits of the fractional parts of the cube roots of the first
// 64 primes.
constexpr std::array<std::uint32_t, 64> kRound = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

// FIPS 180-4 5.3.3: the first 32 bits of the fractional parts of the square roots of the first
// 8 primes.
constexpr std::array<std::uint32_t, 8> kInitial = {
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

using State = std::array<std::uint32_t, 8>;
using Block = std::array<unsigned char, 64>;

constexpr std::uint32_t rotr(std::uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }
constexpr std::uint32_t big_sigma0(std::uint32_t x) { return rotr(x, 2) ^ rotr(x, 13) ^ rotr(x, 22); }
constexpr std::uint32_t big_sigma1(std::uint32_t x) { return rotr(x, 6) ^ rotr(x, 11) ^ rotr(x, 25); }
constexpr std::uint32_t small_sigma0(std::uint32_t x) { return rotr(x, 7) ^ rotr(x, 18) ^ (x >> 3); }
constexpr std::uint32_t small_sigma1(std::uint32_t x) { return rotr(x, 17) ^ rotr(x, 19) ^ (x >> 10); }
constexpr std::uint32_t choose(std::uint32_t x, std::uint32_t y, std::uint32_t z) {
  return (x & y) ^ (~x & z);
}
constexpr std::uint32_t majority(std::uint32_t x, std::uint32_t y, std::uint32_t z) {
  return (x & y) ^ (x & z) ^ (y & z);
}

// 6.2.2 step 1: the message schedule, big-endian words of the block then the expansion.
std::array<std::uint32_t, 64> schedule(const Block& block) {
  std::array<std::uint32_t, 64> w{};
  for (int t = 0; t < 16; ++t) {
    w[t] = std::uint32_t{block[4 * t]} << 24 | std::uint32_t{block[4 * t + 1]} << 16 |
           std::uint32_t{block[4 * t + 2]} << 8 | std::uint32_t{block[4 * t + 3]};
  }
  for (int t = 16; t < 64; ++t) {
    w[t] = small_sigma1(w[t - 2]) + w[t - 7] + small_sigma0(w[t - 15]) + w[t - 16];
  }
  return w;
}

// 6.2.2 steps 2-4: 64 rounds over working variables a..h, then add them into the state.
void compress(State& state, const Block& block) {
  const auto w = schedule(block);
  State v = state;  // v[0..7] = a..h
  for (int t = 0; t < 64; ++t) {
    const std::uint32_t t1 = v[7] + big_sigma1(v[4]) + choose(v[4], v[5], v[6]) + kRound[t] + w[t];
    const std::uint32_t t2 = big_sigma0(v[0]) + majority(v[0], v[1], v[2]);
    for (int i = 7; i > 0; --i) v[i] = v[i - 1];
    v[4] += t1;
    v[0] = t1 + t2;
  }
  for (int i = 0; i < 8; ++i) state[i] += v[i];
}

// 5.1.1 padding: a 1 bit, zeros, then the message length in bits as a 64-bit big-endian number,
// so the padded length is a multiple of 512 bits. Returns the one or two final blocks.
std::string padded_tail(std::string_view tail, std::uint64_t total_bytes) {
  std::string out(tail);
  out.push_back(static_cast<char>(0x80));
  while (out.size() % 64 != 56) out.push_back('\0');
  const std::uint64_t bits = total_bytes * 8;
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(bits >> shift));
  return out;
}

void compress_all(State& state, std::string_view bytes) {
  Block block;
  for (std::size_t off = 0; off + 64 <= bytes.size(); off += 64) {
    for (std::size_t i = 0; i < 64; ++i) block[i] = static_cast<unsigned char>(bytes[off + i]);
    compress(state, block);
  }
}

std::string to_hex(const State& state) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(64);
  for (std::uint32_t word : state) {
    for (int shift = 28; shift >= 0; shift -= 4) hex.push_back(kDigits[(word >> shift) & 0xf]);
  }
  return hex;
}

}  // namespace

std::string sha256_hex(std::string_view bytes) {
  State state = kInitial;
  const std::size_t whole = bytes.size() - bytes.size() % 64;
  compress_all(state, bytes.substr(0, whole));
  compress_all(state, padded_tail(bytes.substr(whole), bytes.size()));
  return to_hex(state);
}

}  // namespace ipcg
