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
# The g++ tree also compiles bench/, which no test runs: unbuilt, it once stopped compiling
# unnoticed. Its programs are run by hand (bench/run.sh); timing them here would prove nothing.
cmake_args=(-DVMM_BUILD_BENCH=ON)
while [ $# -gt 0 ]; do
  case "$1" in
    --sanitize) variant=clang-asan; cmake_args=()
      # The same tree builds the libFuzzer targets (tests/fuzz/run.sh reuses it through
      # FUZZ_BUILD_DIR), so CI compiles the library under clang once, with the flags fuzzing
      # wants: -O1 and libstdc++'s assertions, coverage instrumentation in the library. Line
      # tables (-g1) are all a sanitizer's or a fuzzer's stack trace needs, and compile about
      # 10 % faster than full debug info.
      cmake_args+=(-DCMAKE_CXX_COMPILER=clang++ -DVMM_SANITIZE=address,undefined -DVMM_BUILD_FUZZ=ON
        "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -D_GLIBCXX_ASSERTIONS") ;;
    --clang) variant=clang; cmake_args+=(-DCMAKE_CXX_COMPILER=clang++) ;;
    --) shift; break ;;
    *) echo "usage: scripts/test.sh [--sanitize|--clang] [-- ctest args]" >&2; exit 2 ;;
  esac
  shift
done

"$repo/scripts/install-deps.sh"
export VMM_GUEST_DIR=${VMM_GUEST_DIR:-$repo/build/guest}
echo "== test guest ($VMM_GUEST_DIR; about 10 s the first time, then reused) ==" >&2
"$repo/scripts/guest-assets.sh" "$VMM_GUEST_DIR" >/dev/null
# The arm64 guest (Debian's arm64 kernel and busybox) that one integration test emulates.
export VMM_GUEST_ARM64_DIR=${VMM_GUEST_ARM64_DIR:-$repo/build/guest-arm64}
echo "== arm64 test guest ($VMM_GUEST_ARM64_DIR; about 1 minute the first time) ==" >&2
VMM_GUEST_ARCH=arm64 "$repo/scripts/guest-assets.sh" "$VMM_GUEST_ARM64_DIR" >/dev/null
# The guest with Debian's generic kernel (the cloud kernel has no USB), for the q35 disks test.
export VMM_GUEST_GENERIC_DIR=${VMM_GUEST_GENERIC_DIR:-$repo/build/guest-generic}
echo "== generic-kernel test guest ($VMM_GUEST_GENERIC_DIR; about 45 s the first time) ==" >&2
VMM_GUEST_KERNEL=generic "$repo/scripts/guest-assets.sh" "$VMM_GUEST_GENERIC_DIR" >/dev/null

build=${BUILD_DIR:-$repo/build/$variant}
# CI must fail on a missing package rather than download it. It also builds from cold, twice:
# in batches of 8 files (a unity build) each batch parses the headers (GoogleTest's, fmt's, the
# library's) once instead of 8 times, about 40 % less compiling. Not by default, because an edit
# to one file then recompiles its whole batch.
fetch=ON
unity=OFF
if [ "${CI:-}" = "true" ]; then fetch=OFF; unity=ON; fi
echo "== build ($build; about 5-10 minutes the first time on 2 cores) ==" >&2
cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DVMM_FETCH_DEPS=$fetch -DCMAKE_UNITY_BUILD=$unity -DVMM_GUEST_DIR="$VMM_GUEST_DIR" \
  -DVMM_GUEST_ARM64_DIR="$VMM_GUEST_ARM64_DIR" -DVMM_GUEST_GENERIC_DIR="$VMM_GUEST_GENERIC_DIR" \
  "${cmake_args[@]}" >/dev/null
cmake --build "$build" -j"$(nproc)"

# Sanitizer findings must fail the run, and leaks are findings.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
echo "== run (ctest; about 5 minutes, most of it guests booting under TCG) ==" >&2
status=0
ctest --test-dir "$build" --output-on-failure -j"$(nproc)" "$@" || status=$?

# ctest says "(Skipped)" without the reason: print GoogleTest's skip message for each.
awk '/^[0-9]+\/[0-9]+ Test: / { name = $3 }
     /: Skipped$/ { grab = 1; next }
     /^\[  SKIPPED \]/ { grab = 0 }
     grab { print "skipped " name ": " $0 }' "$build/Testing/Temporary/LastTest.log" 2>/dev/null >&2 || true
exit "$status"
