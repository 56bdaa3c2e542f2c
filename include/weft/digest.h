// Weave digests (docs/COMPATIBILITY.md#digests).
//
//   base digest  = SHA-256 -> URL-safe base64 with '-'->'X', '_'->'Y', no '=' (43 chars)
//   object/row   = base digest of the canonical JSON
//   table        = lowercase hex SHA-256 of the concatenated row digest strings (64 chars)
//   file         = base digest of the raw bytes
//
// SHA-256 goes through OpenSSL EVP with the algorithm fetched once per process and one
// EVP_MD_CTX reused per thread (the one-shot API re-fetches on every call: 2x slower).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include <weft/json.h>
#include <weft/value.h>

namespace weft {

using Sha256Bytes = std::array<uint8_t, 32>;

// Incremental SHA-256 on this thread's reused context. Not reentrant within a thread:
// finish one hash before starting the next.
class Sha256 {
 public:
  Sha256();
  void update(std::string_view bytes);
  Sha256Bytes finish();
  static Sha256Bytes of(std::string_view bytes);
};

inline constexpr size_t kBaseDigestLength = 43;
inline constexpr size_t kTableDigestLength = 64;

std::string base_digest(std::string_view bytes);
std::string base_digest_of_hash(const Sha256Bytes& hash);
std::string file_digest(std::string_view bytes);  // = base_digest
// Object (and row) digest of a value: base digest of its canonical JSON.
std::string object_digest(const Value& v, ChildWriter* children = nullptr);
// Table digest from row digests, in row order. The empty table gives SHA-256 of nothing.
std::string table_digest(std::span<const std::string> row_digests);
std::string to_hex(const Sha256Bytes& hash);

}  // namespace weft
