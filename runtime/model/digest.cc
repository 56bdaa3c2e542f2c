#include <weft/digest.h>

#include <openssl/evp.h>

#include <cstdio>
#include <cstdlib>

namespace weft {
namespace {

[[noreturn]] void die(const char* what) {
  // SHA-256 failing means a broken OpenSSL install (or memory exhaustion); every digest
  // the runtime computes would be wrong, so there is nothing sensible to continue with.
  std::fprintf(stderr, "weft: fatal: OpenSSL SHA-256: %s\n", what);
  std::abort();
}

// Fetched once per process: the implicit fetch behind EVP_sha256() + EVP_Digest() does a
// provider lookup on every call, which costs as much as hashing a few hundred bytes.
// Deliberately never freed (threads may still hash during static destruction).
const EVP_MD* sha256_md() {
  static const EVP_MD* const md = [] {
    EVP_MD* m = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    if (m == nullptr) die("EVP_MD_fetch failed");
    return m;
  }();
  return md;
}

// One context per thread, reused, so a hash does not create and free an EVP_MD_CTX.
// (OpenSSL 3.0's EVP_DigestInit_ex2 still frees and re-creates the provider's small
// algorithm context: one malloc per hash, measured; later 3.x releases reuse it.)
struct ThreadContext {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ThreadContext() {
    if (ctx == nullptr) die("EVP_MD_CTX_new failed");
  }
  ~ThreadContext() { EVP_MD_CTX_free(ctx); }
  ThreadContext(const ThreadContext&) = delete;
  ThreadContext& operator=(const ThreadContext&) = delete;
};

EVP_MD_CTX* thread_ctx() {
  thread_local ThreadContext holder;
  return holder.ctx;
}

// URL-safe base64 alphabet with Weave's substitutions already applied ('-'->'X', '_'->'Y').
constexpr char kDigestAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789XY";

// Scratch buffer for canonical JSON, so object_digest does not allocate per call once
// warm. A buffer that grew past kKeepScratchBytes is kept while large values keep coming
// (regrowing a megabyte buffer costs ~30% of digesting it) and released after
// kReleaseAfterSmallUses consecutive small ones, so a thread does not pin it forever.
constexpr size_t kKeepScratchBytes = 64 * 1024;
constexpr int kReleaseAfterSmallUses = 32;
struct Scratch {
  std::string buf;
  int small_uses = 0;   // consecutive uses that fit in kKeepScratchBytes
  bool in_use = false;  // a ChildWriter may call object_digest re-entrantly
};
thread_local Scratch t_scratch;

}  // namespace

Sha256::Sha256() {
  if (EVP_DigestInit_ex2(thread_ctx(), sha256_md(), nullptr) != 1) die("init failed");
}

void Sha256::update(std::string_view bytes) {
  if (EVP_DigestUpdate(thread_ctx(), bytes.data(), bytes.size()) != 1) die("update failed");
}

Sha256Bytes Sha256::finish() {
  Sha256Bytes out;
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(thread_ctx(), out.data(), &len) != 1 || len != out.size()) {
    die("final failed");
  }
  return out;
}

Sha256Bytes Sha256::of(std::string_view bytes) {
  Sha256 h;
  h.update(bytes);
  return h.finish();
}

std::string base_digest_of_hash(const Sha256Bytes& hash) {
  // 32 bytes = 10 full 3-byte groups (40 chars) + 2 bytes (3 chars, padding dropped).
  std::string out(kBaseDigestLength, '\0');
  char* p = out.data();
  size_t i = 0;
  for (; i + 3 <= hash.size(); i += 3) {
    const uint32_t n = (uint32_t{hash[i]} << 16) | (uint32_t{hash[i + 1]} << 8) | hash[i + 2];
    *p++ = kDigestAlphabet[(n >> 18) & 63];
    *p++ = kDigestAlphabet[(n >> 12) & 63];
    *p++ = kDigestAlphabet[(n >> 6) & 63];
    *p++ = kDigestAlphabet[n & 63];
  }
  static_assert(std::tuple_size_v<Sha256Bytes> % 3 == 2);
  const uint32_t n = (uint32_t{hash[i]} << 16) | (uint32_t{hash[i + 1]} << 8);
  *p++ = kDigestAlphabet[(n >> 18) & 63];
  *p++ = kDigestAlphabet[(n >> 12) & 63];
  *p++ = kDigestAlphabet[(n >> 6) & 63];
  return out;
}

std::string base_digest(std::string_view bytes) { return base_digest_of_hash(Sha256::of(bytes)); }

std::string file_digest(std::string_view bytes) { return base_digest(bytes); }

std::string object_digest(const Value& v, ChildWriter* children) {
  Scratch& s = t_scratch;
  if (s.in_use) return base_digest(canonical_json(v, children));
  s.in_use = true;
  s.buf.clear();
  // If the writer throws, in_use must not stay set for the rest of the thread's life.
  struct Release {
    Scratch& s;
    ~Release() {
      if (s.buf.size() > kKeepScratchBytes) {
        s.small_uses = 0;
      } else if (s.buf.capacity() > kKeepScratchBytes && ++s.small_uses >= kReleaseAfterSmallUses) {
        std::string().swap(s.buf);
        s.small_uses = 0;
      }
      s.in_use = false;
    }
  } release{s};
  write_canonical_json(v, s.buf, children);
  return base_digest(s.buf);
}

std::string table_digest(std::span<const std::string> row_digests) {
  Sha256 h;
  for (const std::string& d : row_digests) h.update(d);
  return to_hex(h.finish());
}

std::string to_hex(const Sha256Bytes& hash) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(hash.size() * 2, '\0');
  for (size_t i = 0; i < hash.size(); ++i) {
    out[2 * i] = kHex[hash[i] >> 4];
    out[2 * i + 1] = kHex[hash[i] & 15];
  }
  return out;
}

}  // namespace weft
