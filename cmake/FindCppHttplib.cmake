# FindCppHttplib.cmake -- cpp-httplib as Debian ships it (libcpp-httplib-dev): compiled into
# libcpp-httplib.so with a declarations-only header and no CMake config.
# Provides CppHttplib::CppHttplib.
#
# Class layouts depend on the SSL/zlib/brotli macros, so every translation unit that
# includes httplib.h must define the ones the library was built with (its pkg-config
# Cflags). weft's public headers never include it, so this reaches only weft's own code.
find_path(CPPHTTPLIB_INCLUDE_DIR httplib.h)
find_library(CPPHTTPLIB_LIBRARY NAMES cpp-httplib)
find_package(OpenSSL 3 QUIET)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(CppHttplib
  REQUIRED_VARS CPPHTTPLIB_LIBRARY CPPHTTPLIB_INCLUDE_DIR OpenSSL_FOUND)
if(CppHttplib_FOUND AND NOT TARGET CppHttplib::CppHttplib)
  add_library(CppHttplib::CppHttplib UNKNOWN IMPORTED)
  set_target_properties(CppHttplib::CppHttplib PROPERTIES
    IMPORTED_LOCATION "${CPPHTTPLIB_LIBRARY}"
    INTERFACE_SYSTEM_INCLUDE_DIRECTORIES "${CPPHTTPLIB_INCLUDE_DIR}"
    INTERFACE_COMPILE_DEFINITIONS
      "CPPHTTPLIB_OPENSSL_SUPPORT;CPPHTTPLIB_ZLIB_SUPPORT;CPPHTTPLIB_BROTLI_SUPPORT"
    INTERFACE_LINK_LIBRARIES "OpenSSL::SSL;OpenSSL::Crypto")
endif()
mark_as_advanced(CPPHTTPLIB_INCLUDE_DIR CPPHTTPLIB_LIBRARY)
