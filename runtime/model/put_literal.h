// put_literal: copies a string literal (without its NUL) into a raw output buffer the caller
// has made room in. The JSON writers build text in pre-reserved char buffers (json_escape.h's
// JsonOut) rather than through std::string appends, which check capacity on every call.
#pragma once

#include <cstddef>
#include <cstring>

namespace weft::detail {

template <size_t N>
inline char* put_literal(char* d, const char (&s)[N]) {
  std::memcpy(d, s, N - 1);
  return d + N - 1;
}

}  // namespace weft::detail
