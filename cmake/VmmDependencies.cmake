# find_package first (Debian: libfmt-dev libspdlog-dev nlohmann-json3-dev libgtest-dev);
# FetchContent only when a package is missing and VMM_FETCH_DEPS is ON (CI turns it off, so a
# missing package is a visible failure there, not a silent download).
include(FetchContent)

macro(vmm_require package target)
  find_package(${package} ${ARGN} QUIET CONFIG)
  if(NOT TARGET ${target})
    if(NOT VMM_FETCH_DEPS)
      message(FATAL_ERROR "vmm needs ${package} (target ${target}); install it or set VMM_FETCH_DEPS=ON")
    endif()
    message(STATUS "vmm: ${package} not found, fetching it")
    set(_vmm_fetch ON)
  else()
    set(_vmm_fetch OFF)
  endif()
endmacro()

vmm_require(fmt fmt::fmt)
if(_vmm_fetch)
  FetchContent_Declare(fmt GIT_REPOSITORY https://github.com/fmtlib/fmt.git GIT_TAG 10.2.1)
  FetchContent_MakeAvailable(fmt)
endif()

vmm_require(spdlog spdlog::spdlog)
if(_vmm_fetch)
  set(SPDLOG_FMT_EXTERNAL ON CACHE BOOL "" FORCE)
  FetchContent_Declare(spdlog GIT_REPOSITORY https://github.com/gabime/spdlog.git GIT_TAG v1.13.0)
  FetchContent_MakeAvailable(spdlog)
endif()

vmm_require(nlohmann_json nlohmann_json::nlohmann_json)
if(_vmm_fetch)
  FetchContent_Declare(json URL https://github.com/nlohmann/json/releases/download/v3.11.3/json.tar.xz)
  FetchContent_MakeAvailable(json)
endif()

if(VMM_BUILD_TESTS)
  vmm_require(GTest GTest::gtest_main)
  if(_vmm_fetch)
    FetchContent_Declare(googletest GIT_REPOSITORY https://github.com/google/googletest.git GIT_TAG v1.14.0)
    set(INSTALL_GTEST OFF CACHE BOOL "" FORCE)
    FetchContent_MakeAvailable(googletest)
  endif()
endif()

find_package(Threads REQUIRED)

# xxHash (Debian: libxxhash-dev; Homebrew: xxhash): the XXH3-128 digests of snapshot bundles.
# Header and library only, no CMake package on Debian: found by path, linked privately.
find_path(VMM_XXHASH_INCLUDE_DIR xxhash.h)
find_library(VMM_XXHASH_LIBRARY NAMES xxhash)
if(NOT VMM_XXHASH_INCLUDE_DIR OR NOT VMM_XXHASH_LIBRARY)
  message(FATAL_ERROR "xxHash not found: install libxxhash-dev (Debian) or xxhash (Homebrew)")
endif()
add_library(vmm_xxhash UNKNOWN IMPORTED)
set_target_properties(vmm_xxhash PROPERTIES IMPORTED_LOCATION "${VMM_XXHASH_LIBRARY}"
  INTERFACE_INCLUDE_DIRECTORIES "${VMM_XXHASH_INCLUDE_DIR}")

# cpp-httplib (Debian: libcpp-httplib-dev, a compiled library described by pkg-config; Homebrew:
# cpp-httplib, header-only with a CMake package): vmm-run's vfkit REST API (src/vfkit). Linked
# privately; a static libvmm names it as vmm::httplib, which vmmConfig.cmake finds the same way.
find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND)
  pkg_check_modules(VMM_HTTPLIB QUIET IMPORTED_TARGET cpp-httplib)
endif()
if(TARGET PkgConfig::VMM_HTTPLIB)
  add_library(vmm_httplib ALIAS PkgConfig::VMM_HTTPLIB)
else()
  find_package(httplib CONFIG QUIET)
  if(NOT TARGET httplib::httplib)
    message(FATAL_ERROR "cpp-httplib not found: install libcpp-httplib-dev (Debian) or cpp-httplib (Homebrew)")
  endif()
  add_library(vmm_httplib ALIAS httplib::httplib)
endif()
# Images and disks (src/images, src/disks): libcurl for downloads, libarchive for cloud-init
# seed ISOs, OpenSSL's libcrypto for digests (CommonCrypto on Apple). Debian: libcurl4-openssl-dev
# libarchive-dev libssl-dev; macOS: the system curl, Homebrew's libarchive.
find_package(CURL REQUIRED)
find_package(LibArchive REQUIRED)
if(NOT APPLE)
  find_package(OpenSSL REQUIRED COMPONENTS Crypto)
endif()
