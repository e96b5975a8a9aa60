"""Kernels of matrix products, rendered from the shared templates.

Three programs, for float32 and float64 (other dtypes have no kernel: their products
run on the host):

- ``blocked_gemm``: for CPU devices, on OpenCL vector types (OpenCL only): the
  register-blocked GEMM, the kernel packing B into panels for it (``_pack_b``), a
  matrix-vector product by rows (``_gemv``) and a vector-matrix one (``_gevm``);
- ``tiled_gemm``: the local-memory tiled GEMM, for GPUs (both dialects);
- ``gemv``: a matrix-vector product, one group per row with a reduction, any strides
  (both dialects).

All compute ``alpha * A @ B + beta * C`` (C not read when beta == 0) with strides in
elements; every size is handled, the edges by bounds checks inside the kernels. Each
also computes a stack of such products in one launch, given a stride per operand along
the stack (0 where the stack shares that operand): the GEMMs as their entry
``name + "_batched"`` (``name`` is one product), the other kernels always.
"""
from functools import lru_cache

import numpy as np

from clgraph.backends.dtypes import c_name
from clgraph.backends.program import render

from .elemwise import _widest_native

DTYPES = (np.dtype(np.float32), np.dtype(np.float64))

# Register block of blocked_gemm: BLOCK_ROWS rows x BLOCK_VECTORS vectors of C, 12
# accumulators + 2 rows of B + 1 broadcast = 15 of the 16 registers of AVX2 (measured
# on PoCL/znver3 against 4x2, 4x3, 3x4 and 8x1).
BLOCK_ROWS, BLOCK_VECTORS = 6, 2
# Length of K per blocked_gemm launch, and the part of L2 the rows of A of a band of
# blocks may fill: a block's rows of A (BLOCK_ROWS x K_CHUNK) and its panel of B
# (K_CHUNK x block columns) then stay in cache while neighbouring blocks reuse them.
K_CHUNK = 512
BAND_BYTES = 192 * 1024
# blocked_gemm first packs B into contiguous panels when A has at least PACK_MIN rows
# (below, B is read about once and a packing pass would double its traffic). Packing A
# as well measured no faster.
PACK_MIN = 32
PACK_ROWS = 32   # rows of a panel per work-item of the packing kernel
# Stacks of products of at least this many multiply-adds each launch blocked_gemm once
# per product: its batched entry runs at about half the speed, which costs more than
# the launches from about here on (measured on PoCL: even near 160^3 per product; at 32^3
# one batched launch was 17 times faster, at 384^3 the launches one by one 1.5 times).
STACK_MAX_WORK = 1 << 22
GEVM_VECTORS = 8   # vectors of y per work-item of the vector-matrix product (in L1)
# tiled_gemm: TILE x TILE of C per group of TILE_THREADS x TILE_THREADS work-items.
TILE, TILE_K, TILE_THREADS = 64, 16, 16
GEMV_MAX_GROUP = 256
# Groups along the third grid axis at most (CUDA's limit): the batched tiled GEMM takes
# longer stacks in several launches.
MAX_GRID_BATCHES = 65535
_OPENCL_NAMES = {"float32": "float", "float64": "double"}   # stems of the vector types


def supported(dtype):
    """Whether matrix products of ``dtype`` have kernels."""
    return np.dtype(dtype) in DTYPES


def blocked_width(device, dtype):
    """The vector width of blocked_gemm for ``dtype`` on ``device`` (a DeviceInfo), or
    0 where the tiled kernel is the one to use (GPUs, CUDA, non-OpenCL CPUs)."""
    if device.api != "opencl" or device.kind != "CPU":
        return 0
    float_width = min(device.preferred_float_vector_width or 4, _widest_native(device))
    # One register holds float_width floats whatever the dtype; at least 2 elements.
    width = max(2, float_width * 4 // np.dtype(dtype).itemsize)
    return width if width in (2, 4, 8, 16) else 0


def blocked_band(dtype):
    """Block rows per band of blocked_gemm (see gemm_blocked.c)."""
    return max(1, BAND_BYTES // (BLOCK_ROWS * K_CHUNK * np.dtype(dtype).itemsize))


@lru_cache(maxsize=None)
def blocked_gemm(dtype, width, vectors_only=False, epilogue=None, loop=False):
    """(kernel name, source) of the register-blocked GEMM on vectors of ``width``; the
    program also holds the kernel ``name + "_pack_b"``. With ``vectors_only`` the
    program holds only the kernels ``name + "_gemv"`` and ``"_gevm"``. ``epilogue``:
    (ElementwiseKernel, the input the product is, how each input is read: "a" an array
    of C's shape, "r" one row of C's width, "s" one element) of an operation applied to
    each result before it is stored; its other array inputs ``in{k}`` follow beta among
    the kernel's arguments. With ``loop``, the program holds the loop of products of
    gemm_blocked.c as ``name + "_steps"`` (its inputs ``in{k}`` followed each by its
    step in elements) beside ``name + "_pack_b"``."""
    dtype = np.dtype(dtype)
    ctype, vtype = c_name(dtype), f"{_OPENCL_NAMES[dtype.name]}{width}"
    rows, vectors = BLOCK_ROWS, BLOCK_VECTORS
    name = f"gemm_blocked_{dtype.name}_{rows}x{vectors}x{width}"
    fields = dict(vector_epilogue="", scalar_epilogue="", epilogue_params="", epilogue_kernel_params="",
                  epilogue_args="", epilogue_call="", epilogue_loop_params="", epilogue_loop_args="")
    if epilogue is not None:
        kernel, position, reads = epilogue
        name += f"_{kernel.tag}_{position}{''.join(reads)}"
        others = [k for k in kernel.arrays if k != position]
        indices = [{"a": "at_", "r": "at_ % N", "s": "0"}[r] for r in reads]
        vector = kernel.epilogue("out_", position, indices, vtype, lambda p: f"GEMM_LOAD(({p}))")
        scalar = kernel.epilogue("out1_", position, indices)
        fields = dict(
            vector_epilogue="{ const ga_ssize at_ = (c) - C; " + " ".join(vector) + " }",
            scalar_epilogue="{ const ga_ssize at_ = (c + j) - C; " + " ".join(scalar) + " }",
            epilogue_params="".join(f", const GLOBAL_MEM {ctype} *in{k}" for k in others),
            epilogue_kernel_params="".join(f", GLOBAL_MEM char *in{k}_base, ga_ssize in{k}_off" for k in others),
            epilogue_args="".join(f", (const GLOBAL_MEM {ctype} *)(in{k}_base + in{k}_off)" for k in others),
            epilogue_call="".join(f", in{k}" for k in others),
            epilogue_loop_params="".join(f", GLOBAL_MEM char *in{k}_base, ga_ssize in{k}_off, ga_ssize in{k}_step"
                                         for k in others),
            epilogue_loop_args="".join(f", (const GLOBAL_MEM {ctype} *)(in{k}_base + in{k}_off) + t * in{k}_step"
                                       for k in others))
    if loop:
        name += "_loop"
    indent = "        "
    accumulators = [f"{vtype} acc{r}_{v} = ({vtype})(0);" for r in range(rows) for v in range(vectors)]
    # One pointer per row, from A: LLVM then keeps them in one induction variable (from
    # a common panel pointer it keeps six, and spills accumulators in PoCL's work-group
    # loop: half the speed).
    # Rows past M read row M - 1 and are not stored: a block cut by the last row costs
    # what a whole one does (the scalar path's one FMA chain per vector costs 3-5 times).
    row_pointers = [f"const GLOBAL_MEM {ctype} *a{r} = A + (row0 + {r} < M ? row0 + {r} : M - 1) * sa0;"
                    for r in range(rows)]
    step = [f"{vtype} b{v} = GEMM_LOAD((b + {v * width}));" for v in range(vectors)] + ["b += sb0;"]
    for r in range(rows):
        step.append(f"{{ const {vtype} a = ({vtype})(*a{r}); a{r} += sa1; "
                    + " ".join(f"acc{r}_{v} += a * b{v};" for v in range(vectors)) + " }")
    stores = [f"if (row0 + {r} < M) {{ "
              + " ".join(f"GEMM_OUT((C + (row0 + {r}) * sc0 + col0 + {v * width}), acc{r}_{v})" for v in range(vectors))
              + " }" for r in range(rows)]
    return name, render(
        "gemm_blocked.c", name=name, ctype=ctype, vtype=vtype, width=width, rows=rows, vectors=vectors,
        matrix_kernels=int(not vectors_only), vector_kernels=int(vectors_only), loop_kernel=int(loop),
        cols=vectors * width, band=blocked_band(dtype), pack_rows=PACK_ROWS, span_vectors=GEVM_VECTORS,
        load_elements=", ".join(f"(p)[{e}]" for e in range(width)),
        horizontal_sum=" + ".join(f"acc.s{e:x}" for e in range(width)),
        store_elements=" ".join(f"(p)[{e}] = (v).s{e:x};" for e in range(width)),
        accumulators="\n".join(indent + line for line in accumulators),
        row_pointers="\n".join(indent + line for line in row_pointers),
        step="\n".join([indent + "    {"] + [indent + "        " + line for line in step] + [indent + "    }"]),
        stores="\n".join(indent + line for line in stores), **fields)


@lru_cache(maxsize=None)
def tiled_gemm(dtype):
    """(kernel name, source) of the local-memory tiled GEMM."""
    dtype = np.dtype(dtype)
    name = f"gemm_tiled_{dtype.name}_{TILE}x{TILE_K}"
    return name, render("gemm_tiled.c", name=name, ctype=c_name(dtype), tile=TILE, tile_k=TILE_K,
                        threads=TILE_THREADS, per=TILE // TILE_THREADS)


@lru_cache(maxsize=None)
def gemv(dtype):
    """(kernel name, source) of the matrix-vector product."""
    dtype = np.dtype(dtype)
    name = f"gemv_{dtype.name}"
    return name, render("gemv.c", name=name, ctype=c_name(dtype), max_group=GEMV_MAX_GROUP)


def sources(dialect, device, dtype):
    """{kernel name: source} of every matrix-product kernel of ``dtype`` that runs on
    ``device`` in ``dialect``."""
    width = blocked_width(device, dtype) if dialect == "opencl" else 0
    if not width:
        return dict([tiled_gemm(dtype), gemv(dtype)])
    name, vector_source = blocked_gemm(dtype, width, vectors_only=True)   # keyed by its first kernel
    return dict([blocked_gemm(dtype, width), (name + "_gemv", vector_source), gemv(dtype)])


def likely_sources(dialect, device, dtype, vectors):
    """Sources of the program a product of ``dtype`` on ``device`` most likely runs:
    the matrix-vector kernels where ``vectors`` (its result has fewer than two axes),
    the GEMM family otherwise."""
    width = blocked_width(device, dtype) if dialect == "opencl" else 0
    if width:
        return [blocked_gemm(dtype, width, vectors_only=vectors)[1]]
    # a vector times a matrix of contiguous rows runs the tiled GEMM (as x @ B.T)
    return [gemv(dtype)[1], tiled_gemm(dtype)[1]] if vectors else [tiled_gemm(dtype)[1]]


__all__ = ["DTYPES", "supported", "blocked_width", "blocked_gemm", "tiled_gemm", "gemv", "sources",
           "likely_sources"]
