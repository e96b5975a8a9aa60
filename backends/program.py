"""Kernel programs: the dialect headers, building, and the in-memory and on-disk caches.

A program's source is the dialect header followed by the kernel source, so the cache
key covers the header. On disk an entry is keyed by a hash of that source, the options,
the clgraph version, the device's identity and the toolchain's, and is written
atomically (temp file + rename); an entry that fails its checksum or that the driver
rejects is rebuilt, never a crash.
"""
import hashlib
import os
import re
import string
import tempfile
from functools import lru_cache
from importlib import resources
from pathlib import Path

from clgraph.configdefaults import config

from .errors import BuildError

_MAGIC = b"CLGRAPH-PROGRAM-1\n"
KERNEL_NAME = re.compile(r"\bKERNEL\s+void\s+(\w+)\s*\(")   # the kernels a source defines
_HEADER_PACKAGES = {"opencl": "clgraph.kernels_cl", "cuda": "clgraph.kernels_cu"}


@lru_cache(maxsize=None)
def dialect_header(dialect):
    """The text of ``dialect``'s cluda.h."""
    return (resources.files(_HEADER_PACKAGES[dialect]) / "cluda.h").read_text()


@lru_cache(maxsize=None)
def kernel_template(name):
    """A dialect-neutral kernel source from clgraph/kernels/."""
    return (resources.files("clgraph.kernels") / name).read_text()


def render(template, /, **fields):
    """A kernel template from clgraph/kernels/ with its ``${field}`` fields filled in."""
    return string.Template(kernel_template(template)).substitute(fields)


class Kernel:
    """One kernel of a built program, launched on its context's queue."""

    def __init__(self, context, raw, name):
        self.context = context
        self.raw = raw
        self.name = name
        self.max_group_size = context.driver.max_group_size(raw)

    def __call__(self, n_groups, group_size, *args, outputs=None, local_bytes=0):
        return self.context.launch(self, n_groups, group_size, args, outputs, local_bytes)


class Program:
    def __init__(self, context, raw, source, options):
        self.context = context
        self.raw = raw
        self.source = source
        self.options = options
        self._kernels = {}

    def kernel(self, name):
        if name not in self._kernels:
            self._kernels[name] = Kernel(self.context, self.context.driver.get_kernel(self.raw, name), name)
        return self._kernels[name]

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return self.kernel(name)


class ProgramCache:
    """Builds programs for one context, through memory and disk caches.

    Binaries go to disk when ``save`` runs (at exit, for every context): asking a driver
    for a binary can cost another build (PoCL's does), which a first call should not
    wait for."""

    def __init__(self, context):
        self.context = context
        self._memory = {}
        self._unsaved = []   # (path, function giving the binary) of programs built here
        self.counts = {"memory": 0, "disk": 0, "built": 0}

    def get(self, source, options=()):
        options = tuple(options)
        program = self._memory.get((source, options))
        if program is not None:
            self.counts["memory"] += 1
            return program
        full_source = dialect_header(self.context.dialect) + "\n" + source
        raw = self._from_disk(full_source, options) if config.cache.enabled else None
        if raw is None:
            raw, binary = self.context.driver.build(full_source, options)
            self.counts["built"] += 1
            if config.cache.enabled:
                self._unsaved.append((self._path(full_source, options), binary))
        program = self._memory[(source, options)] = Program(self.context, raw, full_source, options)
        return program

    def get_together(self, sources, options=()):
        """Build the ``sources`` not built yet as one program, which ``get`` then serves
        for each of them: a driver's cost per program (PoCL: about 0.1 s) is paid once.
        A source defining a kernel that another one defines too is left out, and if the
        program fails to build nothing is cached: those sources build on their own when
        asked for, with their own errors."""
        options = tuple(options)
        parts = list(dict.fromkeys(s for s in sources if (s, options) not in self._memory))
        clashing = {k for owners in kernel_owners(dict(enumerate(parts))).values() if len(owners) > 1
                    for k in owners}
        parts = [part for k, part in enumerate(parts) if k not in clashing]
        if len(parts) < 2:
            return
        try:
            program = self.get(together(self.context.dialect, parts), options)
        except BuildError:
            return
        for part in parts:
            self._memory[(part, options)] = program

    def save(self):
        """Write the binaries of the programs built since the last save to the disk cache."""
        unsaved, self._unsaved = self._unsaved, []
        for path, binary in unsaved:
            try:
                self._store(path, binary())
            except Exception:   # a driver that cannot give a binary costs a rebuild next time
                pass

    def _path(self, full_source, options):
        from clgraph import __version__

        driver = self.context.driver
        digest = hashlib.sha256()
        for part in (full_source, repr(options), __version__, repr(self.context.info.identity()),
                     driver.toolchain()):
            digest.update(part.encode())
            digest.update(b"\0")
        key = digest.hexdigest()
        return Path(config.cache.dir) / "programs" / key[:2] / f"{key}.bin"

    def _from_disk(self, full_source, options):
        path = self._path(full_source, options)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        binary = _unpack(data)
        try:
            if binary is None:
                raise ValueError("checksum mismatch")
            raw = self.context.driver.load(binary, options)
        except Exception:   # a corrupt or stale entry: drop it and rebuild
            path.unlink(missing_ok=True)
            return None
        self.counts["disk"] += 1
        return raw

    @staticmethod
    def _store(path, binary):
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as f:
                f.write(_MAGIC + hashlib.sha256(binary).digest() + binary)
            os.replace(tmp, path)
        except OSError:
            pass   # an unwritable cache directory costs a rebuild next time, nothing more


def together(dialect, parts, names=None):
    """Kernel sources as the source of one program. In CUDA (C++) each is a namespace of
    its own, so file-scope helpers of two sources cannot clash (kernels keep their C
    names), and with ``names`` (one per part) a #line marker makes errors name the part
    and its own line; OpenCL C has no namespaces: its templates prefix their helpers."""
    if dialect != "cuda":
        return "\n".join(parts)
    lines = [f'#line 1 "{name}"\n' for name in names] if names is not None else [""] * len(parts)
    return "\n".join(f"namespace clgraph_part_{k} {{\n{line}{part}\n}}"
                     for k, (line, part) in enumerate(zip(lines, parts)))


def kernel_owners(sources):
    """{kernel name: the keys of the ``sources`` (a dict of kernel sources) defining it}."""
    owners = {}
    for key, text in sources.items():
        for name in KERNEL_NAME.findall(text):
            owners.setdefault(name, []).append(key)
    return owners


def _unpack(data):
    """The binary stored in a cache file, or None if the file is damaged."""
    if not data.startswith(_MAGIC):
        return None
    body = data[len(_MAGIC):]
    checksum, binary = body[:32], body[32:]
    return binary if hashlib.sha256(binary).digest() == checksum else None
