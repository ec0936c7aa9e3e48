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

# vmm-run takes vfkit's flags; $boot is vfkit's legacy linux bootloader.
boot=(--kernel "$k" --initrd "$k" --kernel-cmdline "console=hvc0")
expect 2 '--cpus: "abc" is not a whole number' vmm-run "${boot[@]}" --cpus abc
expect 2 '--cpus: "-1" is not a whole number' vmm-run "${boot[@]}" --cpus -1
expect 2 '--cpus: "4294967296" is not a whole number' vmm-run "${boot[@]}" --cpus 4294967296
expect 2 '--memory: "lots" is not a whole number' vmm-run "${boot[@]}" --memory lots
expect 2 '--stop-after: "abc" is not a whole number' vmm-run "${boot[@]}" --stop-after abc
expect 2 '--metrics-every: "0" is not a whole number from 1' vmm-run "${boot[@]}" --metrics-every 0
expect 2 'unknown flag --frobnicate' vmm-run "${boot[@]}" --frobnicate
expect 2 'unknown flag --frobnicate' vmm-run --frobnicate "${boot[@]}"
# --image (issue 12): one boot source, --user-data only with an image, an unknown image named.
expect 2 'give the machine as --image, a bootloader or --config, only one' vmm-run "${boot[@]}" --image debian-12
expect 2 '--user-data and --image-cmdline go with --image' vmm-run "${boot[@]}" --user-data "$k"
expect 2 '--image needs a value' vmm-run --image
expect 2 'no image "no-such-image" for x86_64 in the catalog; it has: debian-12:x86_64' \
  vmm-run --image no-such-image:x86_64 --image-cache "$tmp/cache"
expect 1 '--cloud-init: ' vmm-run "${boot[@]}" --cloud-init "$tmp/no-such/user-data"
expect 2 '--kernel needs a value' vmm-run --kernel
expect 2 'unexpected argument stray' vmm-run "${boot[@]}" stray
expect 2 'without --kernel-cmdline' vmm-run --kernel "$k" --initrd "$k"
expect 2 '--bootloader cannot be used with --kernel' vmm-run "${boot[@]}" --bootloader "linux,kernel=$k"
expect 2 'no bootloader' vmm-run --cpus 2 --dry-run
expect 2 'no machine' vmm-run --dry-run
expect 2 'not both' vmm-run "${boot[@]}" --config "$tmp/vm.json"
expect 2 '--device virtio-gpu' vmm-run "${boot[@]}" --device virtio-gpu,width=800,height=600
expect 2 '--gui' vmm-run "${boot[@]}" --gui
expect 2 '--bootloader macos' vmm-run --bootloader macos
expect 2 'unknown device type virtio-sound' vmm-run "${boot[@]}" --device virtio-sound
expect 2 '--backend takes auto, qemu or vz, not xen' vmm-run "${boot[@]}" --backend xen
expect 2 '--accel takes auto, kvm or tcg, not hvf' vmm-run "${boot[@]}" --accel hvf
expect 2 '--restful-uri: "tcp://localhost": missing port' vmm-run "${boot[@]}" --restful-uri tcp://localhost
expect 2 '--log-level: unknown log level trace' vmm-run "${boot[@]}" --log-level trace
expect 2 '--no-start needs --restful-uri' vmm-run "${boot[@]}" --no-start
expect 0 'defaults: --cpus 1, --memory 512' vmm-run --help
expect 0 'virtio-vsock[,port=N,socketURL=F,listen|connect]' vmm-run -h
expect 0 'vmm-run version: ' vmm-run --version
expect 1 "$tmp: is a directory" vmm-run --config "$tmp"
printf '{"schema_version": 1,' >"$tmp/broken.json"
expect 1 "$tmp/broken.json: " vmm-run --config "$tmp/broken.json"
refuse '[json.exception' vmm-run --config "$tmp/broken.json"
# --dry-run prints vmm JSON; --print-args the canonical vfkit arguments, one per line.
expect 0 '"cpus": 3' vmm-run "${boot[@]}" --cpus 3 --dry-run
expect 0 '"memory": "512MiB"' vmm-run "${boot[@]}" --dry-run
vmm_json=$("$bin/vmm-run" "${boot[@]}" --cpus 3 --device virtio-rng --dry-run 2>/dev/null)
printf '%s\n' "$vmm_json" >"$tmp/vm.json"
expect 0 '"entropy": true' vmm-run --config "$tmp/vm.json" --dry-run
expect 0 $'--cpus\n3\n--memory\n512\n--kernel' vmm-run --config "$tmp/vm.json" --print-args
expect 0 $'--device\nvirtio-rng' vmm-run "${boot[@]}" --device virtio-rng --print-args
mapfile -t canonical < <("$bin/vmm-run" "${boot[@]}" --cpus 2 --device virtio-rng --restful-uri unix:///tmp/x.sock --print-args)
expect 0 '"cpus": 2' vmm-run "${canonical[@]}" --dry-run
"$bin/vmm-run" "${boot[@]}" --device virtio-net,nat --dry-run 2>/dev/null |
  sed 's/"type": "nat"/"interface": "en0", "type": "bridged"/' >"$tmp/bridged.json"
expect 1 'vfkit arguments cannot express a bridged network' vmm-run --config "$tmp/bridged.json" --print-args
# --ignition serves the file on the VM's vsock device (vmm/vfkit_ignition.hpp); where QEMU has
# no /dev/vhost-vsock (as here), create() refuses that device, naming vsock.
if [ ! -e /dev/vhost-vsock ]; then
  expect 1 'vsock: the QEMU backend needs /dev/vhost-vsock' vmm-run "${boot[@]}" --ignition "$k" --accel tcg
fi
# --timesync runs (vmm/vfkit_timesync.hpp) over the VM's vsock device, which QEMU has only with
# /dev/vhost-vsock: where there is none (as here), create() refuses it, naming vsock.
if [ ! -e /dev/vhost-vsock ]; then
  expect 1 'vsock: the QEMU backend needs /dev/vhost-vsock' vmm-run "${boot[@]}" --timesync vsockPort=1234 --accel tcg
fi
expect 1 'is not named user-data, meta-data or network-config' vmm-run "${boot[@]}" --cloud-init "$k"
# --pidfile: vfkit writes the pid (no newline) before the machine starts.
expect 1 '--pidfile: cannot write /no/such/dir/pid' vmm-run "${boot[@]}" --pidfile /no/such/dir/pid --accel tcg

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
