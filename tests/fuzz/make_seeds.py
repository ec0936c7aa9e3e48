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
             "sync": "fsync", "bus": "virtio", "device_id": "root-disk"},
            {"path": "/etc/passwd", "format": "qcow2", "read_only": True, "caching": "uncached",
             "sync": "full", "bus": "nvme"},
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


def write(target, name, content):
    directory = CORPUS / target
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_text(content, encoding="utf-8")


def main():
    for target in ("fuzz_config_json", "fuzz_size_parse", "fuzz_mac_parse"):
        shutil.rmtree(CORPUS / target, ignore_errors=True)
    for name, document in config_seeds():
        write("fuzz_config_json", name + ".json", json.dumps(document, ensure_ascii=False))
    # The pretty form to_json() writes, and a truncated document for the parse-error path.
    write("fuzz_config_json", "full_pretty.json", json.dumps(full_config(), indent=2))
    write("fuzz_config_json", "bad_truncated.json", json.dumps(full_config())[:200])
    for i, text in enumerate(SIZES):
        write("fuzz_size_parse", f"size_{i:02}", text)
    for i, text in enumerate(MACS):
        write("fuzz_mac_parse", f"mac_{i:02}", text)


if __name__ == "__main__":
    main()
