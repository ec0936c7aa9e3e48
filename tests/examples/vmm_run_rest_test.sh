#!/usr/bin/env bash
# vmm-run as a vfkit drop-in, against the test guest under QEMU, driven with curl through
# vfkit's REST API. Two QEMU runs:
#   1. vfkit flags, REST on TCP loopback, --pidfile: state, Pause (the guest's counter stops),
#      /vm/save, Resume (it counts on), bad bodies and wrong routes, /vm/inspect, Stop: the guest
#      powers off and vmm-run exits 0.
#   2. --config with run 1's /vm/inspect JSON (same machine identifier), --no-start, REST on a
#      unix socket whose stale file is replaced: Stopped, /vm/restore, Resume: the counter goes on
#      from where run 1 saved it, HardStop: vmm-run exits 0 and removes the socket.
#   tests/examples/vmm_run_rest_test.sh BIN_DIR GUEST_DIR
set -uo pipefail
bin=$1 guest=$2
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
out=$tmp/out
fail() { echo "FAIL: $*"; grep -v '^VMM-COUNTER' "$out" | tail -40 | sed 's/^/  | /'; tail -3 "$out"; exit 1; }
ok() { echo "ok: $*"; }
# wait_for SECONDS COMMAND...: polls COMMAND every 0.2 s (generous: guests boot under TCG).
wait_for() {
  local limit=$(( $1 * 5 )); shift
  for _ in $(seq "$limit"); do "$@" && return 0; sleep 0.2; done
  return 1
}
last_count() { grep '^VMM-COUNTER' "$out" | tail -1 | cut -d' ' -f2; }
counter_above() { [ "$(last_count)" -gt "$1" ] 2>/dev/null; }

# api METHOD PATH [BODY]: prints "STATUS BODY" (curl is set up by $curl_to).
api() {
  local body=${3-}
  "${curl_to[@]}" -s -o "$tmp/body" -w '%{http_code}' -X "$1" ${body:+-H 'Content-Type: application/json' -d "$body"} \
    "$base$2" >"$tmp/status" 2>/dev/null
  echo "$(cat "$tmp/status") $(cat "$tmp/body")"
}
# expect_api STATUS TEXT METHOD PATH [BODY]
expect_api() {
  local status=$1 text=$2; shift 2
  local got; got=$(api "$@")
  [[ "$got" == "$status "* ]] && grep -qF -- "$text" <<<"$got" || fail "$* -> $got (want $status with $text)"
  ok "$* -> ${got:0:110}"
}

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
boot=(--kernel "$guest/vmlinuz" --initrd "$guest/initrd.img" --kernel-cmdline "console=hvc0 panic=-1"
      --memory 256 --device virtio-rng)

# ---- run 1: TCP ----
"$bin/vmm-run" "${boot[@]}" --accel tcg --restful-uri "tcp://127.0.0.1:$port" --pidfile "$tmp/pid" >"$out" 2>&1 &
pid=$!
curl_to=(curl --max-time 120)
base="http://127.0.0.1:$port"
wait_for 180 grep -q '^VMM-GUEST-READY$' "$out" || fail "the guest did not come up"
[ "$(cat "$tmp/pid")" = "$pid" ] || fail "--pidfile holds $(cat "$tmp/pid"), not $pid"
ok "--pidfile holds vmm-run's pid"
expect_api 200 '"state":"VirtualMachineStateRunning"' GET /vm/state
expect_api 200 '"canPause":true' GET /vm/state
expect_api 200 '"canResume":false' GET /vm/state
expect_api 202 '' POST /vm/state '{"state":"Pause"}'
expect_api 200 '"state":"VirtualMachineStatePaused"' GET /vm/state
expect_api 200 '"canResume":true' GET /vm/state
paused_at=$(last_count); sleep 2
[ "$(last_count)" = "$paused_at" ] || fail "the counter moved while paused ($paused_at -> $(last_count))"
ok "paused: the counter stays at $paused_at"
expect_api 202 '' POST /vm/save "{\"path\":\"$tmp/bundle\"}"
[ -d "$tmp/bundle" ] || fail "no bundle directory after /vm/save"
expect_api 200 '"state":"VirtualMachineStatePaused"' GET /vm/state
expect_api 202 '' POST /vm/state '{"state":"Resume"}'
wait_for 60 counter_above "$((paused_at + 3))" || fail "the counter did not go on after Resume"
ok "resumed: the counter went on to $(last_count)"
# Bad requests: documented statuses and {"error": ...} bodies.
expect_api 400 '"error"' POST /vm/state 'not json'
expect_api 400 '"error"' POST /vm/state '["Pause"]'
expect_api 500 'invalid new VMState' POST /vm/state '{"state":"Sleep"}'
expect_api 500 'invalid new VMState' POST /vm/state '{}'
expect_api 500 'resume' POST /vm/state '{"state":"Resume"}'
expect_api 400 'needs' POST /vm/save '{}'
expect_api 400 'needs' POST /vm/save '{"path":7}'
expect_api 500 'save' POST /vm/save "{\"path\":\"$tmp/bundle2\"}"
expect_api 500 'restore' POST /vm/restore "{\"path\":\"$tmp/bundle\"}"
expect_api 404 '' GET /vm/nothing
expect_api 404 '' DELETE /vm/state
expect_api 404 '' POST /vm/inspect '{}'
expect_api 200 '"cpus": 1' GET /vm/inspect
cp "$tmp/body" "$tmp/inspect.json"
expect_api 202 '' POST /vm/state '{"state":"Stop"}'
wait_for 120 sh -c "! kill -0 $pid 2>/dev/null" || fail "vmm-run did not exit after Stop"
wait "$pid"; rc=$?; pid=
[ "$rc" -eq 0 ] || fail "vmm-run exited $rc after the guest powered off"
grep -q 'vmm-run: the VM is stopped' "$out" || fail "vmm-run did not say the VM stopped"
ok "Stop: the guest powered off, vmm-run exited 0"
saved_at=$paused_at

# ---- run 2: unix socket, restore ----
sock=$tmp/rest.sock
python3 -c "import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])" "$sock"  # stale file
[ -S "$sock" ] || fail "could not leave a stale socket file"
"$bin/vmm-run" --config "$tmp/inspect.json" --accel tcg --no-start --restful-uri "unix://$sock" >"$out" 2>&1 &
pid=$!
curl_to=(curl --max-time 120 --unix-socket "$sock")
base="http://localhost"
wait_for 60 sh -c "curl -s --unix-socket '$sock' http://localhost/vm/state >/dev/null" || fail "no API on the unix socket"
expect_api 200 '"state":"VirtualMachineStateStopped"' GET /vm/state
expect_api 200 '"canStart":true' GET /vm/state
expect_api 400 '"error"' POST /vm/restore 'nope'
expect_api 500 'not_found' POST /vm/restore "{\"path\":\"$tmp/no-bundle\"}"
expect_api 202 '' POST /vm/restore "{\"path\":\"$tmp/bundle\"}"
expect_api 200 '"state":"VirtualMachineStatePaused"' GET /vm/state
expect_api 202 '' POST /vm/state '{"state":"Resume"}'
wait_for 60 grep -q '^VMM-COUNTER' "$out" || fail "no counter after restore + Resume"
first=$(grep '^VMM-COUNTER' "$out" | head -1 | cut -d' ' -f2)
[ "$first" -gt "$saved_at" ] || fail "the restored guest counted from $first, not on from $saved_at"
ok "restored: the counter went on from $saved_at with $first"
expect_api 202 '' POST /vm/state '{"state":"HardStop"}'
wait_for 60 sh -c "! kill -0 $pid 2>/dev/null" || fail "vmm-run did not exit after HardStop"
wait "$pid"; rc=$?; pid=
[ "$rc" -eq 0 ] || fail "vmm-run exited $rc after HardStop"
[ ! -e "$sock" ] || fail "the unix socket was left behind"
ok "HardStop: vmm-run exited 0 and removed its socket"
