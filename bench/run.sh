#!/usr/bin/env bash
# Builds the benchmarks in Release (build/bench), runs them and writes bench/results.md: one
# Markdown table per section, with the date and machine. results.md is generated (git-ignored).
#   bench/run.sh                      every section
#   BENCH_REPETITIONS=10 bench/run.sh  more repetitions (median and stddev are reported)
# Adding a benchmark program bench/<name>/ means one more `section` (Google Benchmark) or
# `raw_section` (any other program) line at the bottom.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
build=${BENCH_BUILD_DIR:-$repo/build/bench}
out=$repo/bench/results.md
repetitions=${BENCH_REPETITIONS:-5}

fetch=ON
[ "${CI:-}" = "true" ] && fetch=OFF
cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DVMM_BUILD_BENCH=ON \
  -DVMM_BUILD_TESTS=OFF -DVMM_BUILD_EXAMPLES=OFF -DVMM_FETCH_DEPS=$fetch >/dev/null
jobs=$(nproc); [ "$jobs" -gt 2 ] && jobs=2

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)
{
  echo "# vmm benchmark results"
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- commit: $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "- machine: $(nproc) CPUs, ${cpu:-unknown CPU}, $(uname -sr)"
  echo "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
  echo "- Release build; median and standard deviation of $repetitions repetitions"
} >"$out"

# section NAME TITLE [benchmark args...]: runs build/bench/bench/NAME and appends its table.
section() {
  local name=$1 title=$2
  shift 2
  local binary="$build/bench/$name" csv
  echo "---- $name"
  # Each section builds only its own program, so that one that does not build yet (or needs
  # what this machine lacks) does not hold up the others.
  cmake --build "$build" -j"$jobs" --target "vmm_bench_$name"
  csv=$(mktemp)
  "$binary" --benchmark_repetitions="$repetitions" --benchmark_report_aggregates_only=true \
    --benchmark_format=csv "$@" >"$csv"
  {
    echo
    echo "## $title (\`bench/$name\`)"
    echo
    echo "| benchmark | wall time (median) | CPU time (median) | CPU stddev |"
    echo "| --- | ---: | ---: | ---: |"
    # CSV: name,iterations,real_time,cpu_time,time_unit,... with one row per aggregate.
    awk -F, 'NR > 1 {
      gsub(/"/, "", $1)
      if ($1 ~ /_median$/) { b = substr($1, 1, length($1) - 7); med[++m] = b; real[b] = $3; cpu[b] = $4; unit[b] = $5 }
      else if ($1 ~ /_stddev$/) { sd[substr($1, 1, length($1) - 7)] = $4 }
      else if ($1 !~ /_(mean|cv)$/) { plain[++p] = $1; real[$1] = $3; cpu[$1] = $4; unit[$1] = $5; sd[$1] = "" }
    } END {
      # With one repetition there are no aggregates: report the single run.
      if (m == 0) for (i = 1; i <= p; ++i) med[++m] = plain[i]
      for (i = 1; i <= m; ++i) { b = med[i]; u = unit[b]
        printf "| %s | %.0f %s | %.0f %s | %s |\n", b, real[b], u, cpu[b], u, (sd[b] == "" ? "-" : sprintf("%.0f %s", sd[b], u)) }
    }' "$csv"
  } | tee -a "$out"
  rm -f "$csv"
}

# raw_section NAME TITLE [args...]: for a program that is not a Google Benchmark one; its output
# goes into results.md as it is.
raw_section() {
  local name=$1 title=$2
  shift 2
  echo "---- $name"
  cmake --build "$build" -j"$jobs" --target "vmm_bench_$name"
  {
    echo
    echo "## $title (\`bench/$name\`)"
    echo
    echo '```'
    "$build/bench/$name" "$@"
    echo '```'
  } | tee -a "$out"
}

section config "Config: build + validate, JSON round trip"
# The VM benchmarks boot the test guest (scripts/guest-assets.sh).
guest=${VMM_GUEST_DIR:-$repo/build/guest}
"$repo/scripts/guest-assets.sh" "$guest" >/dev/null
raw_section lifecycle "Lifecycle: vmm vs. QEMU driven directly" \
  --kernel "$guest/vmlinuz" --initrd "$guest/initrd.img" --rounds "$repetitions"
raw_section concurrency "Concurrency: 16 VMs started at once" \
  --kernel "$guest/vmlinuz" --initrd "$guest/initrd.img" --vms 16
raw_section clones "Templates and clones: against cold boot and full save/restore" \
  --kernel "$guest/vmlinuz" --initrd "$guest/initrd.img" --rounds "$repetitions" --clones 16

echo "wrote $out"
