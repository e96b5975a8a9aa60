"""Creation ops on the default device context against the numpy reference: arange
(numpy's exact values for every integer and float dtype) and eye, with their sizes read
on the host and their values filled by device kernels."""
import numpy as np
import pytest

import clgraph
import clgraph.tensor as T
from clgraph.backends import nvcc
from clgraph.codegen import creation
from clgraph.compile.device_creation import GpuARange, GpuEye
from clgraph.compile.mode import Mode
from clgraph.printing import kernel_source

INTEGER_DTYPES = ["int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64"]
FLOAT_DTYPES = ["float16", "float32", "float64"]


def device_and_reference(inputs, outputs, op, **options):
    device = clgraph.function(inputs, outputs, **options)
    assert any(isinstance(node.op, op) for node in device.maker.fgraph.toposort())
    return device, clgraph.function(inputs, outputs, mode="FAST_COMPILE")


def assert_identical(got, expected):
    """Same dtype, shape and bits (so -0.0 and 0.0 differ)."""
    assert got.dtype == expected.dtype and got.shape == expected.shape
    np.testing.assert_array_equal(got.view(np.uint8), expected.view(np.uint8))


def assert_same_outcome(device, reference, arguments):
    """The same values, or the same kind of error (the device's naming its op)."""
    try:
        expected = reference(*arguments)
    except (OverflowError, ValueError) as error:
        with pytest.raises(type(error), match="GpuARange"):
            device(*arguments)
    else:
        assert_identical(device(*arguments), expected)


INTEGER_ARGUMENTS = [(0, 10, 1), (3, 100, 7), (100, -100, -3), (120, 0, -1), (5, 5, 1), (10, 0, 1),
                     (127, 128, 1), (7, 12, 100)]
FLOAT_ARGUMENTS = [(0.1, 100, 0.3), (-5, 7, 0.7), (1e-3, 1, 1e-3), (1.5, 30.2, 0.9), (-0.0, 5, 1),
                   (0.5, 10, 1), (0, 300, 0.37), (10, 2, -0.25), (0, 1, 2), (3, 1, 0.5)]


@pytest.mark.parametrize("dtype", INTEGER_DTYPES + FLOAT_DTYPES)
def test_arange_gives_numpys_values(dtype):
    start, stop, step = T.dscalars("start", "stop", "step")
    i, j, k = T.lscalars("i", "j", "k")
    floats = device_and_reference([start, stop, step], T.arange(start, stop, step, dtype=dtype), GpuARange)
    integers = device_and_reference([i, j, k], T.arange(i, j, k, dtype=dtype), GpuARange)
    for arguments in INTEGER_ARGUMENTS:
        for device, reference in (floats, integers):
            assert_same_outcome(device, reference, arguments)
    for arguments in FLOAT_ARGUMENTS:   # integer dtypes: numpy converts the first two values
        assert_same_outcome(*floats, arguments)


def test_arange_wraps_integers_as_numpy_does():
    i = T.lscalar("i")
    for start, step, dtype, stop, expected in [(250, -1, "uint8", 0, np.arange(250, 0, -1)),
                                               (0, 100, "int8", 400, [0, 100, -56, 44]),
                                               (0, 10 ** 9, "uint32", 5 * 10 ** 9, np.arange(5) * 10 ** 9)]:
        device, reference = device_and_reference([i], T.arange(start, i, step, dtype=dtype), GpuARange)
        got = device(stop)
        assert_identical(got, reference(stop))
        np.testing.assert_array_equal(got, np.array(expected, dtype=dtype))


def test_arange_feeds_device_computation_and_keeps_its_length():
    n = T.lscalar("n")
    x = T.fvector("x")
    output = T.arange(n, dtype="float32") * x + T.arange(n)
    device, reference = device_and_reference([n, x], output, GpuARange)
    transfers = [node for node in device.maker.fgraph.toposort() if str(node.op).startswith("HostFromGpu")]
    assert len(transfers) == 1   # only the result comes back
    values = np.linspace(-1, 1, 7).astype("float32")
    np.testing.assert_array_equal(device(7, values), reference(7, values))


def test_arange_errors_name_the_op_and_the_function_still_works():
    i, j, k = T.lscalars("i", "j", "k")
    device, reference = device_and_reference([i, j, k], T.arange(i, j, k, dtype="int8"), GpuARange)
    with pytest.raises(ValueError, match=r"GpuARange\{dtype='int8'\}: step must not be 0"):
        device(0, 5, 0)
    with pytest.raises(OverflowError, match=r"GpuARange\{dtype='int8'\}.*200 out of bounds for int8"):
        device(200, 300, 1)
    start = T.dscalar("start")
    nan = clgraph.function([start], T.arange(start, 10.0))
    with pytest.raises(ValueError, match=r"GpuARange\{dtype='float64'\}: cannot compute the length of "
                                         r"arange\(nan, 10.0, 1\)"):
        nan(np.nan)
    assert_identical(device(0, 5, 2), reference(0, 5, 2))


def test_booleans_ranges_and_complex_eyes_stay_on_the_host():
    n = T.lscalar("n")
    f = clgraph.function([n], [T.arange(n, dtype="bool"), T.eye(n, dtype="complex64")])
    assert not any(str(node.op).startswith("Gpu") for node in f.maker.fgraph.toposort())
    booleans, eye = f(2)
    np.testing.assert_array_equal(booleans, [False, True])
    assert_identical(eye, np.eye(2, dtype="complex64"))


EYE_SHAPES = [(3, 3, 0), (3, 5, 1), (5, 3, -2), (4, 4, 7), (4, 6, -9), (1, 1, 0), (0, 3, 0), (3, 0, 1)]


@pytest.mark.parametrize("dtype", ["bool", "int8", "uint16", "int32", "uint64"] + FLOAT_DTYPES)
def test_eye_gives_numpys_values(dtype):
    n, m, k = T.lscalars("n", "m", "k")
    device, reference = device_and_reference([n, m, k], T.eye(n, m, k, dtype=dtype), GpuEye)
    for shape in EYE_SHAPES:
        assert_identical(device(*shape), reference(*shape))


def test_eye_errors_name_the_op_and_the_function_still_works():
    n = T.lscalar("n")
    device, reference = device_and_reference([n], T.eye(n, 3, dtype="float32"), GpuEye)
    with pytest.raises(ValueError, match=r"GpuEye\{float32\}: negative size \(-2, 3\)"):
        device(-2)
    assert_identical(device(2), reference(2))


def test_reused_outputs_are_refilled_on_every_call():
    n, k = T.lscalars("n", "k")
    output = T.eye(n, n, k, dtype="float32") * 2 + T.arange(n, dtype="float32")
    device, reference = device_and_reference([n, k], output, GpuEye, mode=Mode(linker="vm_nogc"))
    for arguments in [(4, 0), (4, 1), (3, -1), (3, -1), (5, 2)]:
        assert_identical(device(*arguments), reference(*arguments))


def test_kernel_sources_are_listed():
    n = T.lscalar("n")
    f = clgraph.function([n], [T.arange(n, dtype="int16"), T.eye(n, dtype="float16")])
    sources = kernel_source(f, "opencl")
    assert {"fill_arange_int16", "fill_eye_float16"} <= set(sources)


@pytest.mark.skipif(nvcc.find_nvcc() is None, reason="nvcc not found")
def test_cuda_rendering_of_creation_kernels_compiles():
    sources = dict(creation.arange_source(dtype) for dtype in INTEGER_DTYPES + FLOAT_DTYPES)
    sources.update(creation.eye_source(dtype) for dtype in ["bool"] + INTEGER_DTYPES + FLOAT_DTYPES)
    ptx = nvcc.compile_ptx(sources)
    assert all(f".entry {name}(" in ptx for name in sources)
