#!/bin/sh
# /init of the vmm test guest (runs as PID 1 under busybox sh).
#
# Built into the initramfs by scripts/guest-assets.sh. The tests parse the
# console output, so the lines printed here are a contract:
#   VMM-DISK vda <sectors>   once, only if /dev/vda exists (512-byte sectors)
#   VMM-NET eth0 <mac>       once, only if eth0 exists
#   VMM-NET-SENT <ip:port>   once, with vmm.net_send= (see below), or VMM-NET-SEND-FAILED
#   VMM-DISK-WRITTEN vda     once, after vmm.write_vda= wrote and flushed its text
#   VMM-DISK-WRITE-FAILED vda  instead, when that write failed (e.g. a read-only disk)
#   VMM-INPUT <line>         per line of host input, with vmm.echo_input=1
#   VMM-CIDATA <line>        per line of user-data on a cloud-init seed ISO, with vmm.cidata=1
#   VMM-GUEST-READY          once, after the above (the command agent, if any, is running)
#   VMM-COUNTER <i>          i = 0, 1, 2, ... one line per interval, forever
# Kernel command line options:
#   vmm.interval_ms=N        counter interval (default 200)
#   vmm.poweroff_after=N     `poweroff -f` right after N counter lines
#   vmm.panic_after=N        kernel panic (sysrq c) right after N counter lines
#   vmm.write_vda=TEXT       write TEXT and a newline at the start of /dev/vda, then flush it
#   vmm.echo_input=1         answer each line read from the console with VMM-INPUT <line>
#   vmm.cidata=1             mount the first ISO 9660 disk (a NoCloud seed) and print user-data
#   vmm.agent=1              wait (up to 10 s) for the vmm.agent console port before READY
# qemu-ga runs on /dev/virtio-ports/org.qemu.guest_agent.0 when the VM has that console port.
# Command agent (a test fixture): when the VM has a console port named vmm.agent,
# the guest reads requests "<token> <command>" (one line each) from
# /dev/virtio-ports/vmm.agent, runs each with `sh -c` (stdin /dev/null, stderr
# joined to stdout, cwd /) and answers with its output, then "\n<token> <status>\n".
# Everything goes to /dev/console, which is whichever console the kernel was
# booted with (console=ttyS0 or console=hvc0).
# An ACPI power button event (QEMU `system_powerdown`) runs `poweroff -f`.

export PATH=/bin:/sbin:/usr/bin:/usr/sbin

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# The initramfs normally carries /dev/console, but if it was built without
# root (no mknod) the kernel had no console to give us: take it from devtmpfs.
# With console=hvc0 there is no console yet (virtio_console is a module,
# loaded below), and a failed `exec` redirection would end this shell (PID 1).
console_ready() { (: </dev/console) 2>/dev/null; }
if console_ready; then exec </dev/console >/dev/console 2>&1; fi

# Modules, in dependency order (written by guest-assets.sh, which leaves out
# the ones that are builtin or absent). Failures are expected for devices the
# VM does not have, so stay quiet.
if [ -r /etc/modules ]; then
	while read -r m; do
		insmod "/lib/modules/$m.ko" >/dev/null 2>&1 || :
	done </etc/modules
fi
# hvc0 registers as the console when virtio_console probes (the kernel then
# replays its log there): from now on /dev/console is the console we booted with.
if console_ready; then exec </dev/console >/dev/console 2>&1; fi

# ACPI power button -> busybox acpid reads /dev/input/event* (button + evdev
# modules) and runs /etc/acpi/PWRF/00000080, which does `poweroff -f`.
# acpid opens the event devices once at start, so it must start after insmod
# (devtmpfs creates nodes synchronously), and it exits if there is no
# /dev/input/event0 (no ACPI, e.g. microvm,acpi=off). A button press that
# arrives before acpid has the device open is lost, so wait for its pidfile,
# which it writes only after opening the devices: once READY is printed,
# system_powerdown works. It logs to /var/log/acpid.log.
if [ -e /dev/input/event0 ]; then
	mkdir -p /run
	acpid -c /etc/acpi -p /run/acpid.pid >/dev/null 2>&1
	n=0
	while [ ! -s /run/acpid.pid ] && [ "$n" -lt 200 ]; do
		usleep 10000
		n=$((n + 1))
	done
fi

interval_ms=200
poweroff_after=
panic_after=
write_vda=
echo_input=
agent_port=
read -r cmdline </proc/cmdline
for opt in $cmdline; do
	case "$opt" in
	vmm.interval_ms=*) interval_ms=${opt#*=} ;;
	vmm.poweroff_after=*) poweroff_after=${opt#*=} ;;
	vmm.panic_after=*) panic_after=${opt#*=} ;;
	vmm.write_vda=*) write_vda=${opt#*=} ;;
	vmm.echo_input=*) echo_input=${opt#*=} ;;
	vmm.agent=*) agent_port=${opt#*=} ;;
	esac
done
# Non-numeric values: fall back to the defaults instead of looping wildly.
case "$interval_ms" in '' | *[!0-9]*) interval_ms=200 ;; esac
case "$poweroff_after" in *[!0-9]*) poweroff_after= ;; esac
case "$panic_after" in *[!0-9]*) panic_after= ;; esac

if [ -b /dev/vda ] && [ -r /sys/block/vda/size ]; then
	echo "VMM-DISK vda $(cat /sys/block/vda/size)"
fi
if [ -n "$write_vda" ] && [ -b /dev/vda ]; then
	# conv=fsync flushes the disk's write cache: the host sees the bytes once QEMU
	# has them, even before the guest stops.
	if printf '%s\n' "$write_vda" | dd of=/dev/vda conv=notrunc,fsync 2>/dev/null; then
		echo "VMM-DISK-WRITTEN vda"
	else
		echo "VMM-DISK-WRITE-FAILED vda"
	fi
fi
if [ "$echo_input" = 1 ]; then
	# Background lists read /dev/null unless told otherwise.
	while read -r line; do echo "VMM-INPUT $line"; done </dev/console &
fi
# Console ports by name, as udev would link them (there is no udev here).
link_ports() {
	for port in /sys/class/virtio-ports/*; do
		[ -r "$port/name" ] || continue
		name=$(cat "$port/name" 2>/dev/null)
		[ -n "$name" ] || continue
		mkdir -p /dev/virtio-ports
		ln -sf "../${port##*/}" "/dev/virtio-ports/$name"
	done
}
link_ports
# Ports and their names arrive from the device after the driver loads: with
# vmm.agent=1 wait (up to 10 s) for the agent's port.
n=0
while [ "$agent_port" = 1 ] && [ ! -e /dev/virtio-ports/vmm.agent ] && [ "$n" -lt 100 ]; do
	usleep 100000
	link_ports
	n=$((n + 1))
done
# The command agent: one request at a time, in the background, for as long as
# the guest runs. The port is opened read-write once (the host may send before
# it is opened: QEMU holds the bytes until then).
agent() {
	while IFS= read -r request; do
		token=${request%% *}
		command=${request#* }
		(cd / && sh -c "$command") </dev/null 2>&1
		status=$?
		printf '\n%s %s\n' "$token" "$status"
	done
}
if [ -e /dev/virtio-ports/vmm.agent ]; then
	agent <>/dev/virtio-ports/vmm.agent >&0 2>&1 &
fi
# The QEMU guest agent (Debian's qemu-ga, in the initramfs) on its usual port, when the VM
# has it: the host sets the guest clock through it (guest-set-time, which runs
# /sbin/hwclock -w, busybox's). In the background, not as a daemon; it logs to
# /var/log/qemu-ga.log. A port's name arrives from the device after the port itself: while
# a port has none yet, look again (up to 1 s; a VM without ports does not wait).
ports_unnamed() {
	for port in /sys/class/virtio-ports/*; do
		[ -e "$port" ] || continue
		[ -n "$(cat "$port/name" 2>/dev/null)" ] || return 0
	done
	return 1
}
n=0
while [ ! -e /dev/virtio-ports/org.qemu.guest_agent.0 ] && ports_unnamed && [ "$n" -lt 10 ]; do
	usleep 100000
	link_ports
	n=$((n + 1))
done
if [ -e /dev/virtio-ports/org.qemu.guest_agent.0 ] && [ -x /usr/sbin/qemu-ga ]; then
	mkdir -p /run /var/run
	qemu-ga -m virtio-serial -p /dev/virtio-ports/org.qemu.guest_agent.0 -t /run \
		-l /var/log/qemu-ga.log </dev/null >/dev/null 2>&1 &
fi
if [ -r /sys/class/net/eth0/address ]; then
	echo "VMM-NET eth0 $(cat /sys/class/net/eth0/address)"
fi
# cloud-init NoCloud seed: the first virtio disk that mounts as ISO 9660 (isofs module).
case " $cmdline " in
*" vmm.cidata=1 "*)
	mkdir -p /mnt/cidata
	for dev in /dev/vd?; do
		if mount -t iso9660 -o ro "$dev" /mnt/cidata 2>/dev/null; then
			while IFS= read -r line; do echo "VMM-CIDATA $line"; done </mnt/cidata/user-data
			umount /mnt/cidata
			break
		fi
	done
	;;
esac
# A static network on eth0, for a tap network (no DHCP there), and one line sent to a peer:
#   vmm.net_address=ADDR/PREFIX vmm.net_gateway=IP vmm.net_send=IP:PORT
# prints VMM-NET-SENT IP:PORT once the peer took "VMM-NET-HELLO <eth0 mac>", or
# VMM-NET-SEND-FAILED IP:PORT after 30 tries.
net_address= net_gateway= net_send=
for opt in $cmdline; do
	case "$opt" in
	vmm.net_address=*) net_address=${opt#*=} ;;
	vmm.net_gateway=*) net_gateway=${opt#*=} ;;
	vmm.net_send=*) net_send=${opt#*=} ;;
	esac
done
if [ -n "$net_address" ] && [ -e /sys/class/net/eth0 ]; then
	ip link set eth0 up
	ip addr add "$net_address" dev eth0
	[ -n "$net_gateway" ] && ip route add default via "$net_gateway"
fi
if [ -n "$net_send" ]; then
	n=0
	until echo "VMM-NET-HELLO $(cat /sys/class/net/eth0/address)" |
		nc -w 2 "${net_send%:*}" "${net_send##*:}" 2>/dev/null; do
		n=$((n + 1))
		if [ "$n" -ge 30 ]; then break; fi
		sleep 1
	done
	if [ "$n" -lt 30 ]; then echo "VMM-NET-SENT $net_send"; else echo "VMM-NET-SEND-FAILED $net_send"; fi
fi
echo "VMM-GUEST-READY"

# Called after every counter line (and once before the first, so that
# N=0 acts before any counter is printed).
check_limits() {
	if [ -n "$poweroff_after" ] && [ "$i" -ge "$poweroff_after" ]; then
		poweroff -f
	fi
	if [ -n "$panic_after" ] && [ "$i" -ge "$panic_after" ]; then
		echo c >/proc/sysrq-trigger
	fi
}

# The counter is a shell variable: it lives in guest RAM and so continues
# across a QEMU save/restore.
i=0
check_limits
while :; do
	echo "VMM-COUNTER $i"
	i=$((i + 1))
	check_limits
	usleep $((interval_ms * 1000))
done
