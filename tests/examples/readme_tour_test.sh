#!/usr/bin/env bash
# Runs the README's tour program (compiled from the README) the way a newcomer would: in a
# directory holding vmlinuz, initrd.img and root.img. Checks that it exits 0, that the snapshot
# was saved, restored and resumed, and that its manifest names the files by absolute path.
#   tests/examples/readme_tour_test.sh TOUR_BINARY GUEST_DIR
set -uo pipefail
tour=$1 guest=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$guest/vmlinuz" "$work/vmlinuz"
cp "$guest/initrd.img" "$work/initrd.img"
truncate -s 64M "$work/root.img"
(cd "$work" && timeout 240 "$tour") >"$work/out" 2>&1
rc=$?
fail() { echo "FAIL: $*"; sed 's/^/  | /' "$work/out"; exit 1; }
[ "$rc" -eq 0 ] || fail "the tour exited $rc"
for change in "stopped -> starting" "starting -> running" "paused -> saving" "saving -> paused" \
  "stopped -> restoring" "restoring -> paused" "resuming -> running"; do
  grep -qx "$change" "$work/out" || fail "no '$change' state change"
done
manifest="$work/snapshots/one/manifest.json"
[ -f "$manifest" ] || fail "no $manifest"
grep -q "\"$work/vmlinuz\"" "$manifest" || fail "the manifest does not name $work/vmlinuz"
grep -q "\"$work/root.img\"" "$manifest" || fail "the manifest does not name $work/root.img"
echo "ok: the tour ran as written; its snapshot names absolute paths"
