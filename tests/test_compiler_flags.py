"""Flags the compiler reads at graph-building and run time: warn_float64 and
exception_verbosity."""
import warnings

import numpy as np
import pytest

import clgraph
import clgraph.tensor as T
from clgraph.configdefaults import config


def test_warn_float64_ignores_warns_or_raises_where_a_float64_variable_is_made():
    with config.change_flags(warn_float64="ignore"), warnings.catch_warnings():
        warnings.simplefilter("error")
        T.dvector("v")
    with config.change_flags(warn_float64="warn"):
        with pytest.warns(UserWarning, match="creating a float64 variable 'v' while warn_float64='warn'"):
            T.dvector("v")
    x = T.fvector("x")
    with config.change_flags(warn_float64="raise"):
        with pytest.raises(TypeError, match="float64 variable 'w' while warn_float64='raise'"):
            T.dmatrix("w")
        y = x * 2 + T.exp(x)            # float32 graphs make no float64 variable
        with pytest.raises(TypeError, match="float64 variable"):
            T.cast(x, "float64")        # nor does this go unnoticed inside a graph
    assert y.dtype == "float32"


def test_exception_verbosity_high_adds_the_graph_of_the_failing_node():
    x, n = T.fmatrix("x"), T.lscalar("n")
    f = clgraph.function([x, n], T.exp(x).reshape((n, 5)))
    bad = np.ones((3, 4), dtype="float32")
    with pytest.raises(ValueError) as low:
        f(bad, 2)
    assert "cannot reshape an array of shape (3, 4)" in str(low.value)
    assert "[id" not in str(low.value)
    with config.change_flags(exception_verbosity="high"), pytest.raises(ValueError) as high:
        f(bad, 2)
    text = str(high.value)
    assert "The node and the graph computing its inputs:" in text
    assert "|x [id" in text and "|n [id" in text and "float32" in text
    assert f(np.ones((2, 5), dtype="float32"), 2).shape == (2, 5)
