#!/usr/bin/env bash
# The main job: installs what is missing, builds the test guest and vmm, then boots a real VM
# and walks it through its lifecycle (start, pause, save, stop, restore, resume, stop) with
# examples/snapshot-demo.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)

"$repo/scripts/install-deps.sh"
guest=${VMM_GUEST_DIR:-$repo/build/guest}
echo "== test guest ($guest; about 10 s the first time, then reused) ==" >&2
"$repo/scripts/guest-assets.sh" "$guest" >/dev/null

build=$repo/build/gcc
echo "== build (snapshot-demo and vmm-run; about 3-5 minutes the first time on 2 cores) ==" >&2
cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVMM_GUEST_DIR="$guest" >/dev/null
cmake --build "$build" -j"$(nproc)" --target snapshot-demo vmm-run
echo "== run (snapshot-demo; about 30 s under TCG) ==" >&2
exec "$build/examples/snapshot-demo" --kernel "$guest/vmlinuz" --initrd "$guest/initrd.img" "$@"
