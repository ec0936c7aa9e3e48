#!/usr/bin/env bash
# Build the tiny Linux test guest used by the vmm tests, from Debian packages.
#
# Usage: scripts/guest-assets.sh [OUTDIR]
#   OUTDIR defaults to $VMM_GUEST_DIR, else <repo>/build/guest.
#   VMM_GUEST_ARCH=arm64 builds the same guest for arm64 (qemu-system-aarch64's virt machine; under
#   TCG on an x86_64 host): Debian's arm64 kernel and busybox, fetched with a private apt state
#   in OUTDIR/apt, so the host's dpkg architectures and apt lists are left as they are.
#   VMM_GUEST_KERNEL=generic builds it with Debian's generic kernel (linux-image-amd64, a ~70 MB
#   package) instead of the cloud one: the cloud kernel has no USB support at all
#   (CONFIG_USB_SUPPORT is not set), so the one test that looks at a USB disk from inside the
#   guest boots this flavour. Its initramfs also carries the NVMe, SCSI disk, xHCI and USB
#   storage modules, which the generic kernel builds as modules.
# Produces OUTDIR/vmlinuz and OUTDIR/initrd.img (gzip'd cpio newc) and prints
# their paths as the last two lines of stdout (everything else goes to stderr).
#
# The kernel is Debian's cloud kernel (linux-image-cloud-amd64; the smallest, and the fastest to
# boot under TCG) unless VMM_GUEST_KERNEL=generic, unpacked with `dpkg -x` (never installed); the
# initramfs holds busybox-static, the virtio / ACPI button / vsock modules (and the generic
# flavour's disk and USB ones) and scripts/guest-init.sh as /init.
# Re-running is a no-op while the kernel package version, the flavour and the sha256 of
# this script and of guest-init.sh match OUTDIR/.stamp.
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_dir=$(cd "$script_dir/.." && pwd)
script_path=$script_dir/$(basename "${BASH_SOURCE[0]}")
init_src=$script_dir/guest-init.sh
out_dir=${1:-${VMM_GUEST_DIR:-$repo_dir/build/guest}}

guest_arch=${VMM_GUEST_ARCH:-amd64}
case $guest_arch in
amd64 | arm64) ;;
*)
	echo "guest-assets: VMM_GUEST_ARCH must be amd64 or arm64, not $guest_arch" >&2
	exit 2
	;;
esac
guest_kernel=${VMM_GUEST_KERNEL:-cloud}
case $guest_kernel in
cloud) kernel_meta=linux-image-cloud-$guest_arch ;;
generic) kernel_meta=linux-image-$guest_arch ;;
*)
	echo "guest-assets: VMM_GUEST_KERNEL must be cloud or generic, not $guest_kernel" >&2
	exit 2
	;;
esac
tool_pkgs=(busybox-static cpio gzip)
# The QEMU guest agent (qemu-ga) goes into the initramfs with the host's copies of the shared
# libraries it links (found with ldd on the unpacked binary; the host is Debian 12 like the
# guest's userland needs). Its package is unpacked with dpkg -x, like the kernel.
qga_pkg=qemu-guest-agent
tool_pkgs+=(libglib2.0-0 libnuma1 libudev1 liburing2)

# Kernel modules, in load (dependency) order. Missing or builtin ones are
# skipped at build time; the order is written to /etc/modules for the init.
modules=(
	virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci
	virtio_mmio virtio_blk failover net_failover virtio_net fuse virtiofs
	virtio_console virtio_rng virtio_balloon button evdev
	vsock vmw_vsock_virtio_transport_common vmw_vsock_virtio_transport
	cdrom isofs
	efivarfs
)
# The generic kernel's disk and USB drivers, which it builds as modules (the cloud kernel builds
# NVMe in and has no USB): NVMe, SCSI disks (sd_mod, for USB storage), xHCI and USB mass storage,
# after the checksums t10-pi needs. The build checks every module's depends= against this order.
if [[ $guest_kernel == generic ]]; then
	modules+=(
		crc64 crc64_rocksoft crct10dif_common crc_t10dif t10_pi nvme_core nvme
		scsi_common scsi_mod sd_mod
		usb_common usbcore xhci_hcd xhci_pci usb_storage uas
	)
fi

log() { printf 'guest-assets: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

# Run a command as root: directly if we are root, else through sudo.
as_root() {
	if [[ $(id -u) -eq 0 ]]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		die "need root (or sudo) to run: $*"
	fi
}

apt_updated=0
apt_update_once() {
	if ((apt_updated == 0)); then
		log "apt-get update"
		as_root apt-get update -qq >&2
		apt_updated=1
	fi
}

# The guest's own packages (kernel, and busybox for a foreign guest) are asked of apt through
# these: the host's apt for an amd64 guest, a private arm64-only apt state otherwise
# (foreign_apt_opts, set once OUTDIR is known). Updating the private lists needs no root.
foreign_apt_opts=()
guest_apt_cache() { apt-cache "${foreign_apt_opts[@]}" "$@"; }
guest_apt_update_once() {
	if ((${#foreign_apt_opts[@]} == 0)); then
		apt_update_once
	elif ((apt_updated == 0)); then
		log "apt-get update ($guest_arch lists, private to $out_dir/apt)"
		apt-get "${foreign_apt_opts[@]}" update -qq >&2
		apt_updated=1
	fi
}

# True if apt knows an installable version of every package given.
apt_knows() {
	local p cand
	for p in "$@"; do
		cand=$(apt-cache policy "$p" 2>/dev/null | awk '/Candidate:/ {print $2}')
		[[ -n $cand && $cand != "(none)" ]] || return 1
	done
}

installed() {
	[[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) == "install ok installed" ]]
}

ensure_tools() {
	local missing=() p
	for p in "${tool_pkgs[@]}"; do
		installed "$p" || missing+=("$p")
	done
	((${#missing[@]} == 0)) && return 0
	apt_knows "${missing[@]}" || apt_update_once
	log "installing ${missing[*]}"
	as_root env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends "${tool_pkgs[@]}" >&2
}

# Prints "<package> <version>" of the real kernel package behind the meta one.
resolve_kernel() {
	local pkg ver
	pkg=$(guest_apt_cache depends "$kernel_meta" 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-/ {print $2; exit}')
	[[ -n $pkg ]] || return 1
	ver=$(guest_apt_cache policy "$pkg" 2>/dev/null | awk '/Candidate:/ {print $2}')
	[[ -n $ver && $ver != "(none)" ]] || return 1
	printf '%s %s\n' "$pkg" "$ver"
}

sha() { sha256sum "$1" | awk '{print $1}'; }

mkdir -p "$out_dir/cache"
out_dir=$(cd "$out_dir" && pwd)
cache_dir=$out_dir/cache
vmlinuz=$out_dir/vmlinuz
initrd=$out_dir/initrd.img
stamp=$out_dir/.stamp
if [[ $guest_arch != amd64 ]]; then
	mkdir -p "$out_dir/apt/lists/partial" "$out_dir/apt/cache/archives/partial"
	foreign_apt_opts=(-o "APT::Architecture=$guest_arch" -o "APT::Architectures::=$guest_arch"
		-o "Dir::State::Lists=$out_dir/apt/lists" -o "Dir::Cache=$out_dir/apt/cache")
	[[ $(id -u) -eq 0 ]] && foreign_apt_opts+=(-o APT::Sandbox::User=root)
fi

# Serialise concurrent runs on the same OUTDIR (tests may start in parallel).
if command -v flock >/dev/null 2>&1; then
	exec 9>"$out_dir/.lock"
	flock 9
fi

hashes="arch=$guest_arch kernel=$guest_kernel init=$(sha "$init_src")
script=$(sha "$script_path")"

# Fast path without asking apt (apt-cache takes ~0.5 s a call when its
# pkgcache is disabled, as in Debian's container images): the outputs were
# built from these very scripts, and apt's lists and config have not changed
# since, so the kernel it would pick is still the one in the stamp.
if [[ -f $vmlinuz && -f $initrd && -f $stamp && $(tail -n 2 "$stamp") == "$hashes" &&
	-z $(find /var/lib/apt/lists /etc/apt -newer "$stamp" -print -quit 2>/dev/null) ]]; then
	log "up to date ($(head -n 1 "$stamp"))"
	printf '%s\n%s\n' "$vmlinuz" "$initrd"
	exit 0
fi

# --- which kernel? ----------------------------------------------------------
kernel_deb=
if ! kernel=$(resolve_kernel); then
	guest_apt_update_once
	if ! kernel=$(resolve_kernel); then
		# Offline and no apt lists: fall back to a cached package if any.
		kernel_deb=$(find "$cache_dir" -maxdepth 1 -name 'linux-image-*.deb' | sort -V | tail -n 1)
		[[ -n $kernel_deb ]] || die "cannot resolve $kernel_meta with apt-cache"
		kernel=$(dpkg-deb -f "$kernel_deb" Package Version | awk '{printf "%s%s", sep, $2; sep=" "}')
		log "warning: apt cannot resolve $kernel_meta; using cached $kernel_deb"
	fi
fi
kernel_pkg=${kernel%% *}
kernel_ver=${kernel#* }

# qemu-ga's libraries are the host's (ldd), so only a guest of the host's architecture gets it.
if [[ $guest_arch != amd64 ]]; then
	qga_ver="none ($guest_arch guest)"
else
	qga_ver=$(apt-cache policy "$qga_pkg" 2>/dev/null | awk '/Candidate:/ {print $2}')
fi
if [[ -z $qga_ver || $qga_ver == "(none)" ]]; then
	qga_deb=$(find "$cache_dir" -maxdepth 1 -name "${qga_pkg}_*.deb" | sort -V | tail -n 1)
	[[ -n $qga_deb ]] || die "cannot resolve $qga_pkg with apt-cache"
	qga_ver=$(dpkg-deb -f "$qga_deb" Version)
fi

want_stamp="kernel=$kernel_pkg $kernel_ver
qga=$qga_ver
$hashes"

if [[ -f $vmlinuz && -f $initrd && -f $stamp && $(<"$stamp") == "$want_stamp" ]]; then
	log "up to date (kernel=$kernel_pkg $kernel_ver)"
	touch "$stamp" # newer than apt's lists again: next run takes the fast path
	printf '%s\n%s\n' "$vmlinuz" "$initrd"
	exit 0
fi

ensure_tools
busybox=$(dpkg -L busybox-static | grep -E '/bin/busybox$' | head -n 1)
[[ -x $busybox ]] || die "busybox-static installed but no busybox binary found"
# The applet list comes from the host's busybox (the same Debian version), which can run here.
busybox_applets=$busybox

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vmm-guest.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

if [[ $guest_arch != amd64 ]]; then
	log "downloading busybox-static ($guest_arch)"
	mkdir "$tmp/bb"
	(cd "$tmp/bb" && apt-get download -qq "${foreign_apt_opts[@]}" busybox-static >&2)
	dpkg -x "$tmp"/bb/busybox-static_*.deb "$tmp/bb/root"
	busybox=$tmp/bb/root/bin/busybox
	[[ -f $busybox ]] || die "no bin/busybox in the $guest_arch busybox-static package"
fi

# --- kernel package (cached) --------------------------------------------------
if [[ -z $kernel_deb ]]; then
	# apt-get download names files <pkg>_<version with ':' as %3a>_<arch>.deb
	kernel_deb=$(find "$cache_dir" -maxdepth 1 -name "${kernel_pkg}_${kernel_ver//:/%3a}_*.deb" | head -n 1)
fi
if [[ -z $kernel_deb ]]; then
	log "downloading $kernel_pkg $kernel_ver"
	mkdir "$tmp/dl"
	dl_opts=()
	# As root apt drops to the _apt user, which cannot write our temp dir.
	[[ $(id -u) -eq 0 ]] && dl_opts=(-o APT::Sandbox::User=root)
	(cd "$tmp/dl" && apt-get download -qq "${dl_opts[@]}" "${foreign_apt_opts[@]}" "$kernel_pkg=$kernel_ver" >&2)
	# Keep only the current kernel in the cache.
	find "$cache_dir" -maxdepth 1 -name 'linux-image-*.deb' -delete
	mv "$tmp"/dl/*.deb "$cache_dir/"
	kernel_deb=$(find "$cache_dir" -maxdepth 1 -name "${kernel_pkg}_*.deb" | head -n 1)
fi
[[ -f $kernel_deb ]] || die "kernel package not found after download"

log "unpacking $(basename "$kernel_deb")"
dpkg -x "$kernel_deb" "$tmp/kernel"
kernel_image=$(find "$tmp/kernel/boot" -maxdepth 1 -name 'vmlinuz-*' | head -n 1)
[[ -n $kernel_image ]] || die "no boot/vmlinuz-* in $kernel_deb"
kver=${kernel_image##*/vmlinuz-}
moddir=$tmp/kernel/lib/modules/$kver
[[ -d $moddir/kernel ]] || die "no lib/modules/$kver/kernel in $kernel_deb"

# --- guest agent package (cached) --------------------------------------------
qga_deb=
if [[ $guest_arch == amd64 ]]; then
	qga_deb=$(find "$cache_dir" -maxdepth 1 -name "${qga_pkg}_${qga_ver//:/%3a}_*.deb" | head -n 1)
	if [[ -z $qga_deb ]]; then
		log "downloading $qga_pkg $qga_ver"
		mkdir -p "$tmp/dl-qga"
		dl_opts=()
		[[ $(id -u) -eq 0 ]] && dl_opts=(-o APT::Sandbox::User=root)
		(cd "$tmp/dl-qga" && apt-get download -qq "${dl_opts[@]}" "$qga_pkg=$qga_ver" >&2)
		find "$cache_dir" -maxdepth 1 -name "${qga_pkg}_*.deb" -delete
		mv "$tmp"/dl-qga/*.deb "$cache_dir/"
		qga_deb=$(find "$cache_dir" -maxdepth 1 -name "${qga_pkg}_*.deb" | head -n 1)
	fi
	[[ -f $qga_deb ]] || die "$qga_pkg package not found after download"
	dpkg -x "$qga_deb" "$tmp/qga"
	[[ -x $tmp/qga/usr/sbin/qemu-ga ]] || die "no usr/sbin/qemu-ga in $qga_deb"
fi

# --- initramfs tree -----------------------------------------------------------
root=$tmp/root
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,var/log,etc/acpi/PWRF,lib/modules}
cp "$busybox" "$root/bin/busybox"
# Symlink every applet now rather than `busybox --install` at boot.
while read -r applet; do
	[[ $applet == */busybox || -e $root/$applet ]] && continue
	ln -s /bin/busybox "$root/$applet"
done < <("$busybox_applets" --list-full)
[[ -e $root/bin/sh ]] || ln -s busybox "$root/bin/sh"

install -m 0755 "$init_src" "$root/init"

# qemu-ga and every shared library it needs (ldd lists the loader too), at the paths the
# loader looks for them. guest-init.sh starts it on the org.qemu.guest_agent.0 port.
if [[ -n $qga_deb ]]; then
	install -m 0755 "$tmp/qga/usr/sbin/qemu-ga" "$root/usr/sbin/qemu-ga"
	qga_libs=$(ldd "$tmp/qga/usr/sbin/qemu-ga" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}')
	[[ -n $qga_libs ]] || die "ldd found no libraries for qemu-ga"
	for lib in $qga_libs; do
		[[ -f $lib ]] || die "qemu-ga needs $lib, which is not on this host"
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
fi

# busybox acpid maps the power button (evdev KEY_POWER or /proc/acpi/event
# "button/power PWRF") to the action PWRF/00000080 under its config dir.
cat >"$root/etc/acpi/PWRF/00000080" <<'EOF'
#!/bin/sh
poweroff -f
EOF
chmod 0755 "$root/etc/acpi/PWRF/00000080"

# busybox udhcpc's lease script (the tests' guests run `udhcpc -i eth0`): set
# the address, netmask and default route it was handed.
mkdir -p "$root/usr/share/udhcpc"
cat >"$root/usr/share/udhcpc/default.script" <<'EOF'
#!/bin/sh
case "$1" in
deconfig) ifconfig "$interface" 0.0.0.0 up ;;
bound | renew)
	ifconfig "$interface" "$ip" netmask "${subnet:-255.255.255.0}" up
	for gateway in $router; do
		route add default gw "$gateway" dev "$interface" 2>/dev/null
		break
	done
	;;
esac
exit 0
EOF
chmod 0755 "$root/usr/share/udhcpc/default.script"

# Device nodes the kernel wants before /init runs (needs root; the init falls
# back to devtmpfs's /dev/console otherwise).
if ! { mknod -m 0600 "$root/dev/console" c 5 1 && mknod -m 0666 "$root/dev/null" c 1 3; } 2>/dev/null; then
	log "warning: cannot mknod (not root?); initramfs has no /dev/console"
fi

# Modules: copied flat as /lib/modules/<name>.ko, decompressed if needed
# (busybox insmod cannot read compressed modules; Debian 6.1 ships plain .ko).
: >"$root/etc/modules"
for m in "${modules[@]}"; do
	# File names may use '-' where the module name has '_' (virtio-rng.ko).
	src=$(find "$moddir/kernel" \( -name "$m.ko*" -o -name "${m//_/-}.ko*" \) | head -n 1)
	if [[ -z $src ]]; then
		if grep -qE "/(${m}|${m//_/-})\.ko\$" "$moddir/modules.builtin" 2>/dev/null; then
			log "module $m: builtin"
		else
			log "module $m: not in this kernel, skipped"
		fi
		continue
	fi
	dst=$root/lib/modules/$m.ko
	case $src in
	*.ko) cp "$src" "$dst" ;;
	*.ko.xz) xz -dc "$src" >"$dst" ;;
	*.ko.zst) zstd -qdc "$src" >"$dst" ;;
	*.ko.gz) gzip -dc "$src" >"$dst" ;;
	*) die "unknown module format: $src" ;;
	esac
	# Its dependencies must already be listed (loaded before it) or builtin: insmod does not
	# resolve them, and a module that fails to load is silently skipped at boot.
	for dep in $(tr '\0' '\n' <"$dst" | sed -n 's/^depends=//p' | tr ',' ' '); do
		grep -qxF "${dep//-/_}" "$root/etc/modules" ||
			die "module $m needs $dep, which is not listed before it in guest-assets.sh"
	done
	echo "$m" >>"$root/etc/modules"
done

# --- outputs (written atomically, stamp last) ---------------------------------
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort |
	cpio -o -H newc -R 0:0 --reproducible --quiet) | gzip -9 -n >"$tmp/initrd.img"
cp "$kernel_image" "$tmp/vmlinuz"
mv -f "$tmp/vmlinuz" "$vmlinuz"
mv -f "$tmp/initrd.img" "$initrd"
printf '%s\n' "$want_stamp" >"$stamp"

log "built guest: kernel $kver ($kernel_pkg $kernel_ver), qemu-ga $qga_ver, $(wc -l <"$root/etc/modules") modules, initrd $(du -k "$initrd" | cut -f1) KiB"
printf '%s\n%s\n' "$vmlinuz" "$initrd"
