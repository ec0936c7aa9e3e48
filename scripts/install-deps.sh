#!/usr/bin/env bash
# Installs the Debian packages vmm builds, tests and demos with. Idempotent: asks apt only for
# what is missing. Runs as root (CI) or through sudo.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config clang
  libfmt-dev libspdlog-dev nlohmann-json3-dev libgtest-dev libgmock-dev libbenchmark-dev
  libxxhash-dev
  qemu-system-x86 qemu-utils busybox-static cpio gzip
)
# vmm-run's vfkit REST API (header-only HTTP server) and the curl its tests drive it with.
packages+=(libcpp-httplib-dev curl)
# libFuzzer and the sanitizer runtimes for clang come with this one.
packages+=(libclang-rt-14-dev)
# Images and disks: downloads, seed ISOs, digests; a test HTTP server; a reflink filesystem
# (XFS) for the clone tests.
packages+=(libcurl4-openssl-dev libarchive-dev libssl-dev libcpp-httplib-dev xfsprogs)
# qemu-system-aarch64: the arm64 guest test (emulated under TCG) and arm64 hosts.
packages+=(qemu-system-arm)
# EFI boot on q35: the UEFI firmware, and mtools to make a FAT ESP image without root.
packages+=(ovmf mtools)

echo "== packages ==" >&2
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages are installed" >&2
  exit 0
fi

as_root=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  as_root=(sudo)
fi
# apt's own output (hundreds of dpkg lines) goes to a log that is shown only if apt fails.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
run_quietly() {
  if ! "$@" >"$log" 2>&1; then
    echo "install-deps: failed: $*" >&2
    cat "$log" >&2
    exit 1
  fi
}
echo "install-deps: installing ${#missing[@]} packages (about 2-3 minutes on a fresh machine): ${missing[*]}" >&2
echo "install-deps: apt-get update (about 10 s)" >&2
run_quietly "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
echo "install-deps: apt-get install" >&2
run_quietly "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
  --no-install-recommends "${missing[@]}"
echo "install-deps: done" >&2
