#!/usr/bin/env bash
# Runs the example programs with bad and helpful command lines and checks the exit status and
# the message: usage errors exit 2 naming the flag, --help exits 0 showing the defaults.
#   tests/examples/cli_test.sh BIN_DIR
set -uo pipefail
bin=$1
failures=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# expect STATUS TEXT PROGRAM ARGS...: runs PROGRAM, wants exit STATUS and TEXT in its output.
expect() {
  local status=$1 text=$2 program=$3
  shift 3
  local out rc
  out=$("$bin/$program" "$@" 2>&1)
  rc=$?
  if [ "$rc" -ne "$status" ] || ! grep -qF -- "$text" <<<"$out"; then
    echo "FAIL: $program $* -> exit $rc (want $status), output:"
    sed 's/^/  | /' <<<"$out"
    echo "  wanted to see: $text"
    failures=$((failures + 1))
  else
    echo "ok: $program $* -> exit $rc, \"$text\""
  fi
}
# refuse TEXT PROGRAM ARGS...: TEXT must not appear in the output (e.g. a library's tag).
refuse() {
  local text=$1 program=$2
  shift 2
  if "$bin/$program" "$@" 2>&1 | grep -qF -- "$text"; then
    echo "FAIL: $program $* shows \"$text\""
    failures=$((failures + 1))
  fi
}

k=$tmp/vmlinuz
printf 'kernel' >"$k"

expect 2 '--cpus: "abc" is not a whole number' vmm-run --kernel "$k" --cpus abc
expect 2 '--cpus: "-1" is not a whole number' vmm-run --kernel "$k" --cpus -1
expect 2 '--cpus: "4294967296" is not a whole number' vmm-run --kernel "$k" --cpus 4294967296
expect 2 '--stop-after: "abc" is not a whole number' vmm-run --kernel "$k" --stop-after abc
expect 2 '--memory: ' vmm-run --kernel "$k" --memory lots
expect 2 '--metrics-every: "0" is not a whole number from 1' vmm-run --kernel "$k" --metrics-every 0
expect 2 'unknown flag --frobnicate' vmm-run --kernel "$k" --frobnicate
expect 2 'unknown flag --frobnicate' vmm-run --frobnicate --kernel "$k"
expect 2 '--kernel needs a value' vmm-run --kernel
expect 2 'unexpected argument stray' vmm-run --kernel "$k" stray
expect 0 'defaults: --cpus 2, --memory 1GiB' vmm-run --help
expect 0 'console=hvc0 panic=-1' vmm-run --help
expect 1 "$tmp: is a directory" vmm-run --config "$tmp"
printf '{"schema_version": 1,' >"$tmp/broken.json"
expect 1 "$tmp/broken.json: " vmm-run --config "$tmp/broken.json"
refuse '[json.exception' vmm-run --config "$tmp/broken.json"
expect 0 '"cpus": 3' vmm-run --kernel "$k" --cpus 3 --print-config

expect 2 '--cpus: "abc" is not a whole number' snapshot-demo --kernel "$k" --initrd "$k" --cpus abc
expect 2 '--cpus: "0" is not a whole number' snapshot-demo --kernel "$k" --initrd "$k" --cpus 0
expect 2 'unknown flag --frobnicate' snapshot-demo --kernel "$k" --initrd "$k" --frobnicate
expect 2 'the directory /no/such/parent does not exist' \
  snapshot-demo --kernel "$k" --initrd "$k" --bundle /no/such/parent/b
expect 0 'defaults: --cpus 1, --memory 256MiB' snapshot-demo --help

expect 0 'usage: config-demo [KERNEL]' config-demo --help
expect 2 'unknown flag --frobnicate' config-demo --frobnicate
expect 2 'unexpected argument b' config-demo a b

[ "$failures" -eq 0 ] || { echo "$failures case(s) failed"; exit 1; }
