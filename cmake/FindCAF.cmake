# FindCAF.cmake -- locate CAF 0.17.x as Debian ships it (libcaf-dev): headers in
# /usr/include/caf and libcaf_core.so, with no CMake config and no .pc file.
# Provides the imported target CAF::core and CAF_VERSION.
#   find_package(CAF 0.17 REQUIRED)
find_path(CAF_INCLUDE_DIR NAMES caf/all.hpp caf/config.hpp
          HINTS ${CAF_ROOT_DIR} ENV CAF_ROOT_DIR PATH_SUFFIXES include)
if(CAF_INCLUDE_DIR AND EXISTS "${CAF_INCLUDE_DIR}/caf/config.hpp")
  # "#define CAF_VERSION 1706" means 0.17.6
  file(STRINGS "${CAF_INCLUDE_DIR}/caf/config.hpp" _caf_ver_line
       REGEX "^#define CAF_VERSION [0-9]+")
  string(REGEX REPLACE "^#define CAF_VERSION ([0-9]+).*" "\\1" _caf_ver "${_caf_ver_line}")
  math(EXPR CAF_VERSION_MAJOR "${_caf_ver} / 10000")
  math(EXPR CAF_VERSION_MINOR "(${_caf_ver} / 100) % 100")
  math(EXPR CAF_VERSION_PATCH "${_caf_ver} % 100")
  set(CAF_VERSION "${CAF_VERSION_MAJOR}.${CAF_VERSION_MINOR}.${CAF_VERSION_PATCH}")
endif()
find_package(Threads REQUIRED)
find_library(CAF_CORE_LIBRARY NAMES caf_core HINTS ${CAF_ROOT_DIR} ENV CAF_ROOT_DIR PATH_SUFFIXES lib)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(CAF
  REQUIRED_VARS CAF_INCLUDE_DIR CAF_CORE_LIBRARY
  VERSION_VAR CAF_VERSION)
if(CAF_FOUND AND NOT TARGET CAF::core)
  add_library(CAF::core UNKNOWN IMPORTED)
  # SYSTEM include: CAF's headers must not trip our -Werror.
  set_target_properties(CAF::core PROPERTIES
    IMPORTED_LOCATION "${CAF_CORE_LIBRARY}"
    INTERFACE_SYSTEM_INCLUDE_DIRECTORIES "${CAF_INCLUDE_DIR}"
    INTERFACE_LINK_LIBRARIES Threads::Threads)
endif()
mark_as_advanced(CAF_INCLUDE_DIR CAF_CORE_LIBRARY)
