"""The ``clgraph`` command line: ``clgraph devices [--json] [--check]``."""
import argparse
import json
import sys
import time

import numpy as np

from clgraph import config
from clgraph.backends import get_context, registry, to_device
from clgraph.backends.program import kernel_template

_CHECK_SIZE = 1 << 20
_COLUMNS = [  # (heading, how to show a DeviceInfo)
    ("name", lambda d: d.name),
    ("api", lambda d: d.api),
    ("type", lambda d: d.kind),
    ("vendor / model", lambda d: f"{d.vendor} / {d.model}"),
    ("CUs", lambda d: str(d.compute_units)),
    ("memory", lambda d: f"{d.global_mem_bytes / 2**30:.1f} GiB" if d.global_mem_bytes else "host"),
    ("max group", lambda d: str(d.max_group_size)),
    ("fp64", lambda d: "yes" if d.fp64 else "no"),
    ("fp16", lambda d: "yes" if d.fp16 else "no"),
    ("driver", lambda d: d.driver_version),
    ("status", lambda d: "usable" if d.usable else f"unusable: {d.reason}"),
]


def _table(rows):
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows)


def check_device(device):
    """Build and run the shared header's saxpy on ``device``; a dict with the outcome."""
    if device.api == "cpu":
        return {"device": device.name, "passed": True, "detail": "numpy host: runs no kernels"}
    try:
        context = get_context(device.name)
        start = time.perf_counter()
        kernel = context.build(kernel_template("cluda_check.c")).kernel("cluda_saxpy")
        built = time.perf_counter() - start
        x = np.arange(_CHECK_SIZE, dtype=np.float32)
        y = np.ones(_CHECK_SIZE, dtype=np.float32)
        dx, dy = to_device(x, context), to_device(y, context)
        group = min(256, kernel.max_group_size)
        launches = []
        for _ in range(2):   # the first launch may include the driver's lazy compile
            start = time.perf_counter()
            kernel(-(-_CHECK_SIZE // group), group, dy, dx, np.float32(2.0), np.int64(_CHECK_SIZE),
                   outputs=[dy]).wait()
            launches.append(time.perf_counter() - start)
        passed = bool(np.array_equal(dy.get(), 4.0 * x + y))
        detail = (f"build {built * 1e3:.1f} ms, saxpy of {_CHECK_SIZE} floats: first launch "
                  f"{launches[0] * 1e3:.2f} ms, then {launches[1] * 1e3:.2f} ms")
        return {"device": device.name, "passed": passed,
                "detail": detail if passed else "wrong result: " + detail,
                "build_seconds": built, "launch_seconds": launches}
    except Exception as exc:   # report every failure; the command checks all devices
        return {"device": device.name, "passed": False, "detail": f"{type(exc).__name__}: {exc}"}


def devices_command(args):
    statuses = registry.statuses()
    devices = registry.devices()
    try:
        selected, fallback = registry.default_device()
        selection = f"{selected.name} ({selected.model})" + (f" -- {fallback}" if fallback else "")
    except Exception as exc:
        selected, selection = None, f"error: {exc}"
    checks = [check_device(d) for d in devices if d.usable] if args.check else []
    if args.json:
        print(json.dumps({
            "devices": [d.as_dict() for d in devices],
            "apis": [{"api": s.api, "available": s.available, "reason": s.reason} for s in statuses],
            "selected": selected.name if selected else None,
            "selection": selection,
            "checks": checks,
        }, indent=2))
    else:
        rows = [[heading for heading, _ in _COLUMNS]] + [[show(d) for _, show in _COLUMNS] for d in devices]
        print(_table(rows))
        for status in statuses:
            if not status.available:
                print(f"{status.api}: unavailable -- {status.reason}")
        print(f"\ndevice={config.device} selects {selection}")
        for check in checks:
            print(f"check {check['device']}: {'pass' if check['passed'] else 'FAIL'} ({check['detail']})")
    return 0 if all(c["passed"] for c in checks) else 1


def main(argv=None):
    parser = argparse.ArgumentParser(prog="clgraph", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    devices = commands.add_parser("devices", help="list every device of every API")
    devices.add_argument("--json", action="store_true", help="print JSON for scripts")
    devices.add_argument("--check", action="store_true",
                         help="build and run a small kernel on every usable device")
    args = parser.parse_args(argv)
    return devices_command(args)


if __name__ == "__main__":
    sys.exit(main())
