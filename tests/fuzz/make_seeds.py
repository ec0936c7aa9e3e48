#!/usr/bin/env python3
"""Writes the seed corpora under tests/fuzz/corpus/ (run from anywhere; rerun after editing).

The seeds are small on purpose: libFuzzer grows its own working corpus from them (run.sh works
on a copy, so nothing is ever written back here). Config seeds name paths every Debian/macOS
host has (/etc/passwd, /tmp, /) so that some of them also pass the host-checked reader.
"""
import json
import pathlib
import shutil

HERE = pathlib.Path(__file__).resolve().parent
CORPUS = HERE / "corpus"


def full_config():
    return {
        "schema_version": 1,
        "cpus": 4,
        "memory": "1536MiB",
        "boot": {"type": "linux", "kernel": "/etc/passwd", "initrd": "/etc/passwd",
                 "command_line": "console=hvc0 root=/dev/vda", "extra_command_line": ["quiet", "rw"]},
        "networks": [
            {"type": "nat", "mac": "52:54:00:12:34:56"},
            {"type": "bridged", "mac": "02:00:00:00:00:02", "interface": "en0"},
            {"type": "file_handle", "mac": "02:00:00:00:00:03", "fd": 2, "mtu": 9000},
            {"type": "unix_datagram", "mac": "02:00:00:00:00:04", "socket": "/tmp/vmnet.sock", "mtu": 1500},
            {"type": "vmnet", "mac": "02:00:00:00:00:05", "subnet": "192.168.105.0/24"},
        ],
        "shares": [
            {"tag": "home", "directory": "/tmp", "read_only": True},
            {"tag": "multi", "directories": {"etc": {"directory": "/etc", "read_only": True},
                                              "root": {"directory": "/", "read_only": False}}},
        ],
        "disks": [
            {"path": "/etc/passwd", "format": "raw", "read_only": True, "caching": "cached",
             "sync": "fsync", "bus": "virtio", "device_id": "root-disk",
             "limits": {"write_bytes": {"per_second": 1048576, "burst": 4194304,
                                        "burst_seconds": 3},
                        "read_iops": {"per_second": 100}}},
            {"path": "/etc/passwd", "format": "qcow2", "read_only": True, "caching": "uncached",
             "sync": "full", "bus": "nvme",
             "limits": {"total_bytes": {"per_second": 1000000000000000},
                        "total_iops": {"per_second": 5, "burst": 10}}},
            {"path": "/etc/passwd", "format": "asif", "read_only": True, "caching": "automatic",
             "sync": "none", "bus": "usb", "device_id": "ABCDEFGHIJKLMNOPQRST"},
        ],
        "vsock": True,
        "serial": {"type": "file", "path": "/tmp/vmm-fuzz-serial.log", "append": False},
        "entropy": True,
        "balloon": True,
        "rosetta_tag": "rosetta",
        "nested_virtualization": True,
        "machine_identifier": "0123456789abcdef0123456789ABCDEF",
        "machine_identifier_generated": False,
    }


def config_seeds():
    minimal = {"schema_version": 1, "boot": {"type": "linux", "kernel": "/etc/passwd"}}
    yield "minimal", minimal
    yield "full", full_config()
    yield "efi", {"schema_version": 1, "cpus": 1, "memory": 134217728,
                  "boot": {"type": "efi", "variable_store": "/tmp/vmm-fuzz-vars.fd",
                           "create_if_missing": True},
                  "serial": {"type": "fd", "fd": 2}}
    yield "host_off_only", {"schema_version": 1, "cpus": 255, "memory": "16TiB",
                            "boot": {"type": "linux", "kernel": "/no/such/vmlinuz", "initrd": None,
                                     "command_line": ""},
                            "networks": [{"type": "nat"}] * 8,
                            "disks": [{"path": "/no/such/disk.img"}],
                            "serial": {"type": "none"}, "machine_identifier_generated": True}
    yield "edges", {"schema_version": 1, "memory": "0.5 GiB",
                    "boot": {"type": "linux", "kernel": "/etc/passwd", "extra_command_line": []},
                    "networks": [{"type": "vmnet", "subnet": None},
                                 {"type": "vmnet", "subnet": "10.0.0.0/8"},
                                 {"type": "unix_datagram", "socket": "/" + "s" * 102, "mtu": 65535}],
                    "shares": [{"tag": "t" * 36, "directory": "/"},
                               {"tag": "\u00e9t\u00e9", "directories": {"\u65e5\u672c": {"directory": "/tmp"}}}],
                    "disks": [{"path": "/etc/passwd", "read_only": True, "device_id": None}],
                    "rosetta_tag": None, "machine_identifier": "00"}
    # Only forms the QEMU backend supports, with commas where QemuOpts needs them escaped.
    yield "qemu_friendly", {"schema_version": 1, "cpus": 2, "memory": "512MiB",
                            "boot": {"type": "linux", "kernel": "/boot/vm,linuz", "initrd": "/boot/initrd.img",
                                     "command_line": "console=ttyS0 quiet"},
                            "networks": [{"type": "nat"}, {"type": "file_handle", "fd": 3},
                                         {"type": "unix_datagram", "socket": "/run/gv,proxy.sock"}],
                            "shares": [{"tag": "home,id=x", "directory": "/home"}],
                            "disks": [{"path": "/var/lib/vm,s/root.qcow2", "format": "qcow2", "device_id": "root,serial=x"},
                                      {"path": "/var/lib/vms/data.img", "bus": "nvme"},
                                      {"path": "/var/lib/vms/usb.img", "bus": "usb", "read_only": True}],
                            "vsock": True, "entropy": True, "balloon": True}
    # A few near misses, so that each error path is one mutation away.
    yield "bad_version", dict(minimal, schema_version=2)
    yield "bad_unknown_field", dict(minimal, colour="blue")
    yield "bad_type", dict(minimal, cpus="4")
    yield "bad_enum", dict(minimal, disks=[{"path": "/etc/passwd", "caching": "writeback"}])
    yield "bad_mac", dict(minimal, networks=[{"type": "nat", "mac": "01:00:5e:00:00:01"}])


SIZES = ["512MiB", "2G", "1.5GiB", "4096", "0", "1 KiB", "3tb", "0.5k", "128M", "1B",
         "18446744073709551615", "16777215.999999999T", "1.000000001G", "1.", ".5G", "12 ",
         "1.0000000001K", "17179869184GiB"]

MACS = ["52:54:00:12:34:56", "AA:BB:CC:DD:EE:FE", "fe:ff:ff:ff:ff:ff", "01:00:5e:00:00:01",
        "00:00:00:00:00:00", "02-00-00-00-00-01", "02:00:00:00:00:0g", "2:00:00:00:00:01"]


GREETING = ('{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}, '
            '"package": "Debian 1:7.2+dfsg-7+deb12u7"}, "capabilities": ["oob"]}}\r\n')
EVENT = '{"timestamp": {"seconds": 1763848800, "microseconds": 12}, "event": "STOP"}\r\n'


def qmp_streams():
    """Streams as QEMU writes them: greeting, the qmp_capabilities reply (id 1), then replies to
    the client's later commands (ids 2..), events and errors interleaved."""
    yield "handshake", GREETING + '{"return": {}, "id": 1}\r\n'
    yield "session", (GREETING + '{"return": {}, "id": 1}\r\n' + EVENT +
                      '{"return": {"status": "running", "singlestep": false, "running": true}, "id": 2}\r\n'
                      '{"id": 3, "error": {"class": "GenericError", "desc": "Device not found"}}\r\n'
                      '{"timestamp": {"seconds": 1763848801, "microseconds": 0}, "event": "SHUTDOWN", '
                      '"data": {"guest": true, "reason": "guest-shutdown"}}\r\n')
    yield "no_greeting", EVENT + '{"return": {}, "id": 1}\r\n'
    yield "bad_reply", GREETING + '{"return": {}, "id": -1}\r\n'
    yield "partial_line", GREETING + '{"return": {}, "id": 1}\r\n{"event": "RES'
    yield "bare_newlines", GREETING.replace("\r\n", "\n") + '\n\n{"return": [], "id": 1}\n'


def manifest_seeds():
    base = {"format_version": 1, "backend": "qemu", "config": full_config(), "state_file": "state.qemu",
            "created_at": "2026-11-22T21:40:00Z", "library_version": "0.1.0"}
    yield "full", base
    yield "vz_minimal", dict(base, backend="virtualization_framework", state_file="state.vzvmsave",
                             config={"schema_version": 1, "boot": {"type": "linux", "kernel": "/no/such/vmlinuz"}})
    yield "bad_state_file", dict(base, state_file="../escape")
    yield "bad_time", dict(base, created_at="2026-11-22 21:40:00")
    yield "bad_config", dict(base, config=dict(full_config(), cpus=0))
    # A template bundle (format 2, digests, the RAM file of the config's 1536 MiB).
    template = dict(base, format_version=2, digests={"state.qemu": "xxh3-128:" + "0" * 32},
                    template={"memory_file": "memory.ram", "memory_size": 1536 << 20})
    yield "template", template
    yield "bad_template_size", dict(template, template={"memory_file": "memory.ram", "memory_size": 1})


SUBNETS = ["192.168.105.0/24", "10.0.0.0/8", "172.16.0.0/12", "192.168.1.4/30", "010.0.0.0/8",
           "10.0.0.0/08", "10.0.0.1/24", "10.0.0.0/7", "256.0.0.0/8", "1.2.3/24", "1.2.3.4"]

# Console streams as guests write them: "\r\n" line ends, a long line, a missing final newline.
CONSOLE = ["Linux version 6.1.0-28-cloud-amd64\r\n[    0.000000] Command line: console=ttyS0\r\n",
           "login: " + "x" * 100 + "\r\n\r\n\n\rtail",
           "\r\r\n\n\r"]


SHA256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
SHA512 = ("ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
          "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f")
# fuzz_image_manifest's first byte picks the kind: 0 sha256sums, 1 sha512sums, 2 fedora_checksum.
IMAGE_MANIFESTS = [
    ("gnu", b"\x00" + f"{SHA256}  disk.img\n{SHA256.upper()} *kernel\n# comment\n".encode()),
    ("sha512", b"\x01" + f"{SHA512}  debian-12-genericcloud-amd64.qcow2\r\n".encode()),
    ("fedora", b"\x02" + ("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n"
                          f"# f.qcow2: 491716608 bytes\nSHA256 (f.qcow2) = {SHA256}\n"
                          "-----BEGIN PGP SIGNATURE-----\n\niQIz\n-----END PGP SIGNATURE-----\n").encode()),
    ("bad_length", b"\x00" + f"{SHA256[1:]}  x\n".encode()),
]


def image_catalog_seeds():
    asset = {"url": "https://example.org/a/disk.qcow2",
             "checksums": {"url": "https://example.org/a/SHA256SUMS", "kind": "sha256sums"}}
    linux = {"name": "guest", "arch": "x86_64", "boot": "linux", "description": "d",
             "command_line": "console=hvc0",
             "kernel": {"url": "http://127.0.0.1:8080/vmlinuz",
                        "checksums": {"url": "http://127.0.0.1:8080/SUMS", "kind": "sha512sums", "file": "k"}},
             "initrd": {"url": "http://127.0.0.1:8080/initrd.img",
                        "checksums": {"url": "http://127.0.0.1:8080/CHECKSUM", "kind": "fedora_checksum"}},
             "disk": dict(asset, format="raw")}
    efi = {"name": "debian-12", "arch": "arm64", "boot": "efi", "disk": dict(asset, format="qcow2")}
    yield "both", {"schema_version": 1, "images": [linux, efi]}
    yield "empty", {"schema_version": 1, "images": []}
    yield "bad_kind", {"schema_version": 1, "images": [dict(efi, disk=dict(asset, checksums={"url": "https://h/S", "kind": "md5"}))]}


def write(target, name, content):
    directory = CORPUS / target
    directory.mkdir(parents=True, exist_ok=True)
    data = content if isinstance(content, bytes) else content.encode("utf-8")
    (directory / name).write_bytes(data)


# macOS's /var/db/dhcpd_leases: bootpd's form, a MAC with stripped zeros and its older lease, a
# non-Ethernet lease, and broken structure.
DHCP_LEASES = [
    "{\n\tname=debian\n\tip_address=192.168.64.3\n\thw_address=1,52:54:0:ab:c:1\n"
    "\tidentifier=1,52:54:0:ab:c:1\n\tlease=0x6763c1d4\n}\n"
    "{\n\tname=old\n\tip_address=192.168.64.2\n\thw_address=1,52:54:0:ab:c:1\n"
    "\tlease=0x6763a000\n}\n",
    "{\n ip_address=10.0.0.9\n hw_address=6,1:2:3:4:5:6\n}\n",
    "{\n ip_address=10.0.0.8\n hw_address=1,01:02:03:0A:0B:0C\n lease=zz\n}\n",
    "{\n{\n}\n",
]


def main():
    for target in ("fuzz_config_json", "fuzz_size_parse", "fuzz_mac_parse", "fuzz_qmp",
                   "fuzz_qmp_client", "fuzz_snapshot_manifest", "fuzz_vz_plan", "fuzz_ipv4_subnet",
                   "fuzz_console_lines", "fuzz_qemu_command_line", "fuzz_image_manifest",
                   "fuzz_image_catalog", "fuzz_dhcp_leases"):
        shutil.rmtree(CORPUS / target, ignore_errors=True)
    for name, document in config_seeds():
        write("fuzz_config_json", name + ".json", json.dumps(document, ensure_ascii=False))
        if not name.startswith("bad_"):
            write("fuzz_vz_plan", name + ".json", json.dumps(document, ensure_ascii=False))
            write("fuzz_qemu_command_line", name + ".json", json.dumps(document, ensure_ascii=False))
    # The pretty form to_json() writes, and a truncated document for the parse-error path.
    write("fuzz_config_json", "full_pretty.json", json.dumps(full_config(), indent=2))
    write("fuzz_config_json", "bad_truncated.json", json.dumps(full_config())[:200])
    for i, text in enumerate(SIZES):
        write("fuzz_size_parse", f"size_{i:02}", text)
    for i, text in enumerate(MACS):
        write("fuzz_mac_parse", f"mac_{i:02}", text)
    # fuzz_qmp's first byte picks the line limit and chunking: 255 is the default limit, whole
    # stream; 7 a 64-byte limit (the greeting is too long) in small chunks.
    for name, stream in qmp_streams():
        write("fuzz_qmp_client", name, stream)
        write("fuzz_qmp", name, b"\xff" + stream.encode())
        write("fuzz_qmp", name + "_chunked", b"\x07" + stream.encode())
    for i, text in enumerate(DHCP_LEASES):
        write("fuzz_dhcp_leases", f"leases_{i:02}", text)
    for i, text in enumerate(SUBNETS):
        write("fuzz_ipv4_subnet", f"subnet_{i:02}", text)
    # fuzz_console_lines's first byte picks the line limit (1 + byte % 64) and chunking.
    for i, text in enumerate(CONSOLE):
        write("fuzz_console_lines", f"console_{i:02}", bytes([i * 37 + 15]) + text.encode())
    for name, document in manifest_seeds():
        write("fuzz_snapshot_manifest", name + ".json", json.dumps(document, indent=2) + "\n")
    for name, data in IMAGE_MANIFESTS:
        write("fuzz_image_manifest", name, data)
    for name, document in image_catalog_seeds():
        write("fuzz_image_catalog", name + ".json", json.dumps(document, indent=2))


if __name__ == "__main__":
    main()
