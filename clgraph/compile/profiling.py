"""Profiles of compiled functions: per-node host and device time over all calls.

A function compiled with ``profile=True`` (or under the ``profile`` flag) times every
call; its VM records each node's host time (enqueueing device work, or computing on the
host) and the device events of its commands, whose device time is read back after the
call. Summaries of every profile print to stderr when the program exits.
"""
import atexit
import sys

_profiles = []


class ProfileStats:
    def __init__(self, name=None):
        self.name = name
        self.calls = 0
        self.call_seconds = 0.0
        self.nodes = {}   # position in the order -> [node, host seconds, device seconds or None]
        _profiles.append(self)

    def add_call(self, seconds, timings):
        """Add one call that took ``seconds`` and the VM's ``timings()`` of it."""
        self.calls += 1
        self.call_seconds += seconds
        for position, (node, host, device) in enumerate(timings):
            entry = self.nodes.setdefault(position, [node, 0.0, 0.0])
            entry[1] += host
            entry[2] = None if device is None or entry[2] is None else entry[2] + device

    def summary(self):
        lines = [f"Function profile: {self.name or '<unnamed>'}",
                 f"  {self.calls} calls, {self.call_seconds:.6f} s in all"
                 f" ({self.call_seconds / max(1, self.calls) * 1e6:.1f} us per call)",
                 "  host s      device s    node"]
        ranked = sorted(self.nodes.values(), key=lambda e: -(e[2] or 0.0) - e[1])
        for node, host, device in ranked:
            shown = "       n/a" if device is None else f"{device:10.6f}"
            lines.append(f"  {host:10.6f}  {shown}  {node.op}")
        if any(device is None for _, _, device in ranked):
            lines.append("  (n/a: the context's queue was created without command timing; set the "
                         "profile flag before the first device is used)")
        return "\n".join(lines)


@atexit.register
def _print_profiles():
    for profile in _profiles:
        if profile.calls:
            print(profile.summary(), file=sys.stderr)
