#!/usr/bin/env bash
# Bounded fuzzing for CI and for a quick local check.
#   tests/fuzz/run.sh                    every target, FUZZ_SECONDS (60) or FUZZ_RUNS (200000) each
#   tests/fuzz/run.sh fuzz_size_parse    only the named targets
# For each target: replays tests/fuzz/regressions/<target>/ first, then fuzzes a temporary copy
# of tests/fuzz/corpus/<target>/ (the checked-in seeds are never written to). Any crash, broken
# property, leak, timeout or out-of-memory fails the run; the input is kept under
# build/fuzz/artifacts/<target>/. Targets run one after another: the machines are shared.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${FUZZ_BUILD_DIR:-$repo/build/fuzz}
seconds=${FUZZ_SECONDS:-60}
runs=${FUZZ_RUNS:-200000}
limits=(-timeout=5 -rss_limit_mb=2048)

if [ $# -gt 0 ]; then
  targets=("$@")
else
  targets=()
  for source in "$here"/fuzz_*.cpp; do targets+=("$(basename "$source" .cpp)"); done
fi

# -O1 -g1 keeps stacks readable (line tables are all they need); no NDEBUG, so that the
# library's asserts stay armed, and libstdc++'s own bounds checks on top of ASan.
# A tree that already builds the fuzz targets (scripts/test.sh --sanitize's build/clang-asan,
# given as FUZZ_BUILD_DIR) is used as it is configured: CI then compiles the library once.
fetch=ON
[ "${CI:-}" = "true" ] && fetch=OFF
if ! grep -qs '^VMM_BUILD_FUZZ:BOOL=ON$' "$build/CMakeCache.txt"; then
  cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -D_GLIBCXX_ASSERTIONS" \
    -DVMM_SANITIZE=address,undefined -DVMM_BUILD_FUZZ=ON -DVMM_BUILD_TESTS=OFF \
    -DVMM_BUILD_EXAMPLES=OFF -DVMM_FETCH_DEPS=$fetch >/dev/null
fi
jobs=$(nproc); [ "$jobs" -gt 2 ] && jobs=2
cmake --build "$build" -j"$jobs" --target "${targets[@]}"

export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
summary=()
failed=0

# One target: regressions, then bounded fuzzing. Prints the log tail and returns 1 on a finding.
fuzz_one() {
  local target=$1 binary="$build/tests/fuzz/$1" artifacts="$build/artifacts/$1"
  local log="$work/$target.log" dict=() regressions=()
  mkdir -p "$artifacts" "$work/$target"
  [ -f "$here/$target.dict" ] && dict=("-dict=$here/$target.dict")
  if [ -d "$here/regressions/$target" ]; then
    mapfile -t regressions < <(find "$here/regressions/$target" -type f | sort)
  fi
  # Replayed as a corpus with -runs=0 rather than as file arguments: libFuzzer enforces
  # -timeout only in corpus mode. The copy keeps the checked-in directory untouched.
  mkdir -p "$work/$target-regressions"
  if [ ${#regressions[@]} -gt 0 ] && ! { cp "${regressions[@]}" "$work/$target-regressions/" &&
       "$binary" "${limits[@]}" -runs=0 -artifact_prefix="$artifacts/" \
         "$work/$target-regressions" >"$log" 2>&1; }; then
    tail -n 60 "$log"
    summary+=("$(printf '%-24s FAIL  a regression input fails again (see above)' "$target")")
    return 1
  fi
  if [ -d "$here/corpus/$target" ]; then cp -R "$here/corpus/$target/." "$work/$target/"; fi
  local rc=0 start end
  start=$(date +%s%N)
  "$binary" "${limits[@]}" "${dict[@]}" -max_total_time="$seconds" -runs="$runs" \
    -print_final_stats=1 -artifact_prefix="$artifacts/" "$work/$target" >"$log" 2>&1 || rc=$?
  end=$(date +%s%N)
  local done_line execs rate cov ft corp
  done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n 1 || true)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  # libFuzzer's own exec/s is 0 for runs under a second: divide by the wall time instead.
  rate=$(awk -v n="${execs:-0}" -v ns=$((end - start)) 'BEGIN { printf "%.0f", n / (ns / 1e9) }')
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$done_line")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$done_line")
  corp=$(sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p' <<<"$done_line")
  if [ "$rc" -ne 0 ]; then
    tail -n 60 "$log"
    summary+=("$(printf '%-24s FAIL  exit %s after %s execs; input kept in %s' \
      "$target" "$rc" "${execs:-?}" "$artifacts")")
    return 1
  fi
  summary+=("$(printf '%-24s ok    %9s execs %7s exec/s  cov %5s  ft %6s  corpus %5s  (%s regression inputs)' \
    "$target" "$execs" "$rate" "$cov" "$ft" "$corp" "${#regressions[@]}")")
}

for target in "${targets[@]}"; do
  echo "---- $target"
  fuzz_one "$target" || failed=1
done

echo
echo "fuzz summary (${seconds}s or ${runs} runs per target):"
printf '  %s\n' "${summary[@]}"
if [ "$failed" -ne 0 ]; then
  echo "fuzzing found a problem; reproduce with: $build/tests/fuzz/<target> <input>" >&2
  exit 1
fi
