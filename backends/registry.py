"""The registry of contexts: user names -> one Context per physical device.

``device=`` names the default context; ``contexts=dev0->opencl0:0;dev1->cuda0`` adds
named ones. Two names for the same device share one Context. Contexts are created on
first use, which also locks the flags that cannot change once a device is in use.
"""
import atexit
import re
import sys
import warnings

from clgraph.configdefaults import config

from . import devices as _devices
from .context import Context
from .errors import DeviceError

_RESERVED = re.compile(r"^(cpu|opencl.*|cuda.*|gpu.*|auto)$")
_USER_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def parse_contexts(spec):
    """``'dev0->cuda0;dev1->opencl0:0'`` -> [('dev0', 'cuda0'), ('dev1', 'opencl0:0')]."""
    pairs, seen = [], set()
    for item in filter(None, (part.strip() for part in (spec or "").split(";"))):
        name, arrow, device = (p.strip() for p in item.partition("->"))
        if not arrow or not name or not device:
            raise DeviceError(f"malformed contexts item {item!r} in {spec!r}: expected name->device")
        if _RESERVED.match(name):
            raise DeviceError(f"context name {name!r} in contexts={spec!r} is reserved "
                              "(cpu, auto and names starting with opencl, cuda or gpu name devices)")
        if not _USER_NAME.match(name):
            raise DeviceError(f"context name {name!r} in contexts={spec!r} must be an identifier")
        if name in seen:
            raise DeviceError(f"context name {name!r} appears twice in contexts={spec!r}")
        _devices.parse_device_name(device)
        seen.add(name)
        pairs.append((name, device))
    return pairs


class ContextRegistry:
    def __init__(self):
        self._statuses = None
        self._contexts = {}      # user or device name -> Context
        self._by_device = {}     # device name -> Context
        self._default = None

    def statuses(self):
        """Every API's discovery result (discovered once)."""
        if self._statuses is None:
            self._statuses = _devices.discover()
        return self._statuses

    def devices(self):
        return [d for s in self.statuses() for d in s.devices]

    def default_device(self):
        """The DeviceInfo that ``device=`` selects now, and a warning text if it fell back."""
        if config.device != "auto":
            return _devices.resolve(config.device, self.statuses()), ""
        opencl = next(s for s in self.statuses() if s.api == "opencl")
        usable = [d for d in opencl.devices if d.usable]
        if usable:
            return usable[0], ""
        why = opencl.reason if not opencl.available else "no OpenCL device is usable"
        return _devices.host_device(), f"device=auto found no OpenCL device ({why}); using cpu"

    def get(self, name=None):
        """The Context called ``name`` (a context name or a device name); default if None."""
        if name is None:
            if self._default is None:
                device, fallback = self.default_device()
                if fallback:
                    warnings.warn(fallback, RuntimeWarning, stacklevel=2)
                self._default = self._bind(device)
                self._bind_named()
            return self._default
        if name not in self._contexts:
            self._bind_named()
        if name not in self._contexts:
            if not _RESERVED.match(name):
                known = ", ".join(sorted(set(self._contexts) | {"cpu"}))
                raise DeviceError(f"unknown context {name!r}; contexts defined: {known} "
                                  f"(set contexts=name->device to add one)")
            self._contexts[name] = self._bind(_devices.resolve(name, self.statuses()))
        return self._contexts[name]

    def _bind_named(self):
        for user_name, device_name in parse_contexts(config.contexts):
            if user_name not in self._contexts:
                self._bind(_devices.resolve(device_name, self.statuses()), user_name)

    def _bind(self, device, user_name=None):
        """The Context of ``device``, created on first use; ``user_name`` joins its names."""
        context = self._by_device.get(device.name)
        announce = context is None or user_name is not None
        if context is None:
            config.lock_device_flags()
            if not self._by_device:
                atexit.register(self.finish_all)
            context = self._by_device[device.name] = self._contexts[device.name] = Context(device)
        if user_name is not None:
            context.names.append(user_name)
            self._contexts[user_name] = context
        if announce and config.print_active_device:
            print(f"Mapped name {user_name or device.name} to device {device.describe()}",
                  file=sys.stderr)
        return context

    def active(self):
        """The contexts created so far, one per device."""
        return list(self._by_device.values())

    def finish_all(self):
        """Wait for the work every context has queued, then save the programs built
        since the last save to the disk cache. Run at exit: a driver still building or
        running a kernel while the process tears down its libraries can crash (PoCL
        compiles a kernel for its first launch in a worker thread, and the last calls'
        updates run after their outputs were returned)."""
        for context in self.active():
            try:
                context.synchronize()
            except Exception:   # a failed command was the caller's to see; nothing to add at exit
                pass
            context.programs.save()


registry = ContextRegistry()
get_context = registry.get

