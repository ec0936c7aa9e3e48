#!/usr/bin/env bash
# Boots the test guest with vmm-run, as the README shows, and checks that the guest came up and
# counted (its console reached stdout), that --stop-after stopped it and vmm-run exited 0, and
# that --metrics-every printed the VM's metrics meanwhile.
#   tests/examples/vmm_run_boot_test.sh BIN_DIR GUEST_DIR
set -uo pipefail
bin=$1 guest=$2
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$bin/vmm-run" --kernel "$guest/vmlinuz" --initrd "$guest/initrd.img" \
  --kernel-cmdline "console=hvc0 panic=-1" --memory 256 --accel tcg --stop-after 25 \
  --metrics-every 5 >"$out" 2>&1
rc=$?
fail() { echo "FAIL: $*"; sed 's/^/  | /' "$out"; exit 1; }
[ "$rc" -eq 0 ] || fail "vmm-run exited $rc"
grep -q '^VMM-GUEST-READY$' "$out" || fail "no VMM-GUEST-READY on stdout"
grep -q '^VMM-COUNTER [0-9]' "$out" || fail "no counter line on stdout"
grep -q 'vmm-run: qemu backend, tcg acceleration' "$out" || fail "the acceleration in use was not printed"
grep -q 'vmm-run: --stop-after elapsed' "$out" || fail "not stopped by --stop-after"
grep -q 'vmm-run: .* -> stopped' "$out" || fail "no transition to stopped"
# --metrics-every: JSON lines with QEMU's pid and CPU time while the guest runs.
grep -q '^vmm-run: metrics {.*"cpu_user_us":.*"hypervisor_pid":[0-9]' "$out" ||
  fail "no metrics line with the QEMU pid and CPU time"
echo "ok: booted, counted to $(grep '^VMM-COUNTER' "$out" | tail -1 | cut -d' ' -f2), stopped"
