#!/usr/bin/env bash
# Boots the test guest with vmm-run, as the README shows, and checks that the guest came up and
# counted (its console reached stdout), that --stop-after stopped it and vmm-run exited 0.
#   tests/examples/vmm_run_boot_test.sh BIN_DIR GUEST_DIR
set -uo pipefail
bin=$1 guest=$2
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$bin/vmm-run" --kernel "$guest/vmlinuz" --initrd "$guest/initrd.img" --memory 256MiB \
  --accel tcg --stop-after 25 >"$out" 2>&1
rc=$?
fail() { echo "FAIL: $*"; sed 's/^/  | /' "$out"; exit 1; }
[ "$rc" -eq 0 ] || fail "vmm-run exited $rc"
grep -q '^VMM-GUEST-READY$' "$out" || fail "no VMM-GUEST-READY on stdout"
grep -q '^VMM-COUNTER [0-9]' "$out" || fail "no counter line on stdout"
grep -q 'vmm-run: qemu backend, tcg acceleration' "$out" || fail "the acceleration in use was not printed"
grep -q 'vmm-run: --stop-after elapsed' "$out" || fail "not stopped by --stop-after"
grep -q 'vmm-run: .* -> stopped' "$out" || fail "no transition to stopped"
echo "ok: booted, counted to $(grep '^VMM-COUNTER' "$out" | tail -1 | cut -d' ' -f2), stopped"
