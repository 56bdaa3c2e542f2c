// The library's version, compiled in, so a program can compare it with the headers'.
#include <weft/version.h>

namespace weft {

const char* version() { return WEFT_VERSION_STRING; }

}  // namespace weft
