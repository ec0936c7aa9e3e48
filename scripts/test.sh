#!/usr/bin/env bash
# The test command: installs what is missing, builds the test guest, configures, builds and runs
# every test (unit and integration against real QEMU) with ctest.
#   scripts/test.sh                 g++ build in build/gcc
#   scripts/test.sh --sanitize      clang build with AddressSanitizer + UBSan in build/clang-asan
#   scripts/test.sh --clang         plain clang build in build/clang
# Extra arguments after -- go to ctest (e.g. -- -R Config).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)

variant=gcc
cmake_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --sanitize) variant=clang-asan
      cmake_args+=(-DCMAKE_CXX_COMPILER=clang++ -DVMM_SANITIZE=address,undefined) ;;
    --clang) variant=clang; cmake_args+=(-DCMAKE_CXX_COMPILER=clang++) ;;
    --) shift; break ;;
    *) echo "usage: scripts/test.sh [--sanitize|--clang] [-- ctest args]" >&2; exit 2 ;;
  esac
  shift
done

"$repo/scripts/install-deps.sh"
export VMM_GUEST_DIR=${VMM_GUEST_DIR:-$repo/build/guest}
"$repo/scripts/guest-assets.sh" "$VMM_GUEST_DIR" >/dev/null

build=${BUILD_DIR:-$repo/build/$variant}
# CI must fail on a missing package rather than download it.
fetch=ON
[ "${CI:-}" = "true" ] && fetch=OFF
cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DVMM_FETCH_DEPS=$fetch -DVMM_GUEST_DIR="$VMM_GUEST_DIR" "${cmake_args[@]}" >/dev/null
cmake --build "$build" -j"$(nproc)"

# Sanitizer findings must fail the run, and leaks are findings.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir "$build" --output-on-failure -j"$(nproc)" "$@"
