"""Checks shared by the tensor-operator tests."""
import numpy as np

import clgraph.tensor as T


def check(result, expected, dtype=None):
    """``result`` is an ndarray with ``expected``'s values, shape and dtype (or ``dtype``)."""
    expected = np.asarray(expected)
    assert isinstance(result, np.ndarray)
    assert result.dtype == np.dtype(dtype or expected.dtype), (result.dtype, dtype or expected.dtype)
    assert result.shape == expected.shape, (result.shape, expected.shape)
    np.testing.assert_array_equal(result, expected)


def var_like(value, static=False):
    """An input variable of ``value``'s dtype and ndim (and shape, if ``static``)."""
    value = np.asarray(value)
    return T.tensor(str(value.dtype), value.shape if static else (None,) * value.ndim)
