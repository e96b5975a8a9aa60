"""The CUDA toolchain: find nvcc and compile CUDA-dialect kernels to PTX.

The test suite compile-checks the CUDA rendering of every kernel template with
`compile_ptx`, batching many sources into one nvcc call since each call costs ~0.5 s.
"""

import functools
import importlib.resources
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from .errors import BuildError
from .program import kernel_owners, together


def find_nvcc():
    """The path of nvcc: from PATH, else $CUDA_ROOT/bin or $CUDA_HOME/bin; None if absent."""
    on_path = shutil.which("nvcc")
    if on_path:
        return on_path
    for variable in ("CUDA_ROOT", "CUDA_HOME"):
        root = os.environ.get(variable)
        candidate = Path(root, "bin", "nvcc") if root else None
        if candidate and candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def _require_nvcc():
    nvcc = find_nvcc()
    if nvcc is None:
        raise FileNotFoundError(
            "nvcc not found on PATH nor in $CUDA_ROOT/bin or $CUDA_HOME/bin: "
            "install the CUDA toolkit or point CUDA_HOME at it"
        )
    return nvcc


@functools.lru_cache(maxsize=None)
def nvcc_version():
    """nvcc's release line, e.g. 'Cuda compilation tools, release 13.0, V13.0.88'.

    It identifies the toolchain in kernel cache keys.
    """
    result = subprocess.run([_require_nvcc(), "--version"], capture_output=True, text=True, check=True)
    lines = result.stdout.strip().splitlines()
    return next((line for line in lines if "release" in line), lines[-1]).strip()


def cuda_include_dir():
    """The folder holding the CUDA dialect's cluda.h."""
    try:
        return Path(str(importlib.resources.files("clgraph.kernels_cu")))
    except ModuleNotFoundError:  # a source tree that is not installed: backends/ and kernels_cu/ are siblings
        return Path(__file__).resolve().parent.parent / "kernels_cu"


def _check_unique_kernel_names(sources):
    # Kernels have C linkage, so two of the same name collide even in separate namespaces.
    for kernel, owners in kernel_owners(sources).items():
        if len(owners) > 1:
            raise ValueError(f"kernel {kernel!r} is defined in both {owners[0]!r} and {owners[1]!r}; "
                             "kernel names must be unique within one nvcc batch")


def _batch_source(sources):
    # as a program of sources built together: each in a namespace of its own, a #line
    # marker naming it
    return '#include "cluda.h"\n' + together("cuda", list(sources.values()), list(sources)) + "\n"


def compile_ptx(sources, options=(), arch="sm_75"):
    """Compile CUDA-dialect sources in one nvcc call and return the PTX text.

    `sources` maps a name (used in error locations) to a kernel source written without
    the cluda.h include, which is prepended once. Kernel names must be unique across
    the batch (ValueError otherwise). A failed build raises BuildError carrying nvcc's
    log and the line-numbered batch source. sm_75 is the oldest target CUDA 13 accepts.
    """
    _check_unique_kernel_names(sources)
    nvcc = _require_nvcc()
    options = list(options)
    source = _batch_source(sources)
    with tempfile.TemporaryDirectory(prefix="clgraph-nvcc-") as folder:
        cu_path, ptx_path = Path(folder, "batch.cu"), Path(folder, "batch.ptx")
        cu_path.write_text(source)
        command = [nvcc, "--ptx", f"-arch={arch}", f"-I{cuda_include_dir()}", *options,
                   str(cu_path), "-o", str(ptx_path)]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise BuildError(dialect="cuda", device=f"nvcc {arch}", options=options,
                             log=result.stderr + result.stdout, source=source)
        return ptx_path.read_text()
