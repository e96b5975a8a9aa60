"""Softmax and the categorical cross-entropies.

Each op is one fused computation along a line (an axis, or a row of a matrix of
classes), so a device runs it as one kernel; ``perform`` is the numpy reference. Lines
are shifted by their maximum before exp, so inputs of any finite size give finite
results wherever the math is finite (softmax of [1e4, 0] is [1, 0], not nan).

The gradients are ops of their own (SoftmaxGrad, LogSoftmaxGrad, the ``Dx`` and
``Grad`` ops), and those ops' gradients are ordinary tensor expressions, so second
derivatives work. Inputs must be floats (as Theano's Softmax, which rejects integers);
class indices are integer vectors with values in [0, number of classes).
"""
import numpy as np

from clgraph.graph.basic import Apply
from clgraph.graph.op import Op
from clgraph.scalar import upcast

from ..basic import as_tensor_variable, cast, eq, exp, log, switch
from ..math import sum as tensor_sum
from ..shape_ops import arange, normalize_axis
from ..type import TensorType


# -- input checks -------------------------------------------------------------------------

def _float_tensor(op, name, value):
    var = as_tensor_variable(value)
    if np.dtype(var.dtype).kind != "f":
        raise TypeError(f"{op}: {name} must be a tensor of floats, got {var} of dtype {var.dtype}")
    if var.ndim < 1:
        raise TypeError(f"{op}: {name} must have at least one dimension, got the scalar {var}")
    return var


def _same_float_dtype(*variables):
    """The variables cast to the upcast of their dtypes (the dtype the op computes in)."""
    dtype = upcast(*[v.dtype for v in variables])
    return [v if v.dtype == dtype else cast(v, dtype) for v in variables]


def _float_of_ndim(op, name, value, ndim, what):
    var = _float_tensor(op, name, value)
    if var.ndim != ndim:
        raise TypeError(f"{op}: {name} must be {what}, got {var} with {var.ndim} dimensions")
    return var


def _class_matrix(op, name, value):
    return _float_of_ndim(op, name, value, 2, "a matrix (rows of classes)")


def _row_vector(op, name, value):
    return _float_of_ndim(op, name, value, 1, "a vector (one value per row)")


def _class_indices(op, value):
    var = as_tensor_variable(value)
    if var.ndim != 1 or np.dtype(var.dtype).kind not in "iu":
        raise TypeError(f"{op}: true_idx must be a vector of integer class indices, got {var} of dtype "
                        f"{var.dtype} with {var.ndim} dimensions")
    return var


def check_class_indices(op, idx, rows, classes):
    """IndexError naming ``op``, the first row whose class index is outside [0,
    ``classes``) and that index; ValueError when ``idx`` has not one index per row."""
    idx = np.asarray(idx)
    if idx.shape != (rows,):
        raise ValueError(f"{op}: true_idx must have one class index per row ({rows} rows), got shape "
                         f"{idx.shape}")
    bad = np.flatnonzero((idx < 0) | (idx >= classes))
    if bad.size:
        row = int(bad[0])
        raise IndexError(f"{op}: class index {idx[row]} of row {row} is out of range for {classes} classes "
                         f"(allowed: 0 to {classes - 1})")
    return idx


def _same_shape(op, names, arrays):
    shapes = [np.shape(a) for a in arrays]
    if len(set(shapes)) > 1:
        raise ValueError(f"{op}: {' and '.join(names)} must have the same shape, got "
                         f"{' and '.join(map(str, shapes))}")


# -- numpy references ---------------------------------------------------------------------

def _computing(x):
    """``x`` in the dtype the reference computes in: float16 widened to float32, as the
    kernels compute."""
    return x.astype(np.promote_types(x.dtype, np.float32), copy=False)


def _shifted(x, axis):
    """x minus its line maximum (lines of only -inf, or with +inf, give nan, as the
    math does)."""
    return x - np.max(x, axis=axis, keepdims=True)


def _softmax_reference(x, axis):
    e = np.exp(_shifted(x, axis))
    return e / np.sum(e, axis=axis, keepdims=True)


def _log_softmax_reference(x, axis):
    shifted = _shifted(x, axis)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def _reference(node, function, *arrays):
    """``function`` of the arrays widened for computing, in the output's dtype; empty
    arrays (which have no line maximum) give empty outputs."""
    out = node.outputs[0]
    if any(np.size(a) == 0 for a in arrays):
        widest = max(arrays, key=np.ndim)   # the lines (a per-row output keeps the rows)
        return [np.zeros(np.shape(widest)[:out.ndim], dtype=out.dtype)]
    with np.errstate(all="ignore"):
        return [np.asarray(function(*[_computing(np.asarray(a)) for a in arrays]), dtype=out.dtype)]


def _one_hot(idx, classes, dtype):
    """Symbolic: a (rows, classes) matrix of ``dtype``, 1 at each row's class index."""
    return cast(eq(idx.dimshuffle(0, "x"), arange(classes).dimshuffle("x", 0)), dtype)


# -- softmax along an axis ----------------------------------------------------------------

class _AlongAxis(Op):
    """An op computing along ``axis`` (negative counts from the end; the node's op
    has it normalized, so equal computations are equal ops)."""

    __props__ = ("axis",)

    def __init__(self, axis=-1):
        if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, (int, np.integer)):
            raise TypeError(f"{type(self).__name__}: axis must be an integer, got {axis!r}")
        self.axis = int(axis)

    def _normalized(self, ndim):
        axis = normalize_axis(self, self.axis, ndim)
        return self if axis == self.axis else type(self)(axis)

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]

    def __str__(self):
        return f"{type(self).__name__}{{axis={self.axis}}}"


class _Normalizer(_AlongAxis):
    """softmax-like ops of one float input: ``reference(x, axis)`` in numpy, and the
    fused op of their gradient, ``grad_op`` (set below, once it is defined)."""

    reference = grad_op = None

    def make_node(self, x):
        x = _float_tensor(self, "x", x)
        return Apply(self._normalized(x.ndim), [x], [TensorType(x.dtype, x.type.shape)()])

    def perform(self, node, inputs):
        return _reference(node, lambda x: self.reference(x, self.axis), *inputs)

    def L_op(self, inputs, outputs, output_grads):
        return [self.grad_op(self.axis)(output_grads[0], outputs[0])]


class Softmax(_Normalizer):
    """exp(x) / sum(exp(x)) along ``axis``, computed from x minus its line maximum."""

    reference = staticmethod(_softmax_reference)


class LogSoftmax(_Normalizer):
    """log(softmax(x)) along ``axis``: (x - max) - log(sum(exp(x - max))), finite
    wherever the log-probability is."""

    reference = staticmethod(_log_softmax_reference)


class _LineGrad(_AlongAxis):
    """The gradient of a softmax-like op: inputs (dy, the op's output), output dx."""

    output_name = ""

    def make_node(self, dy, y):
        dy = _float_tensor(self, "dy", dy)
        y = _float_tensor(self, self.output_name, y)
        if dy.ndim != y.ndim:
            raise TypeError(f"{self}: dy and {self.output_name} must have the same number of dimensions, "
                            f"got {dy} with {dy.ndim} and {y} with {y.ndim}")
        dy, y = _same_float_dtype(dy, y)
        shape = tuple(a if a is not None else b for a, b in zip(dy.type.shape, y.type.shape))
        return Apply(self._normalized(dy.ndim), [dy, y], [TensorType(dy.dtype, shape)()])

    def perform(self, node, inputs):
        _same_shape(self, ["dy", self.output_name], inputs)
        return _reference(node, self._reference, *inputs)


class SoftmaxGrad(_LineGrad):
    """The gradient of Softmax: (dy - sum(dy * sm)) * sm along ``axis``."""

    output_name = "sm"

    def _reference(self, dy, sm):
        return (dy - np.sum(dy * sm, axis=self.axis, keepdims=True)) * sm

    def L_op(self, inputs, outputs, output_grads):
        (dy, sm), (g,) = inputs, output_grads
        axis = self.axis
        g_dy = SoftmaxGrad(axis)(g, sm)   # the map is linear in dy: its own gradient op
        dy_sm, g_sm = (tensor_sum(v * sm, axis=axis, keepdims=True) for v in (dy, g))
        return [g_dy, g * (dy - dy_sm) - dy * g_sm]


class LogSoftmaxGrad(_LineGrad):
    """The gradient of LogSoftmax: dy - exp(lsm) * sum(dy) along ``axis``."""

    output_name = "lsm"

    def _reference(self, dy, lsm):
        return dy - np.exp(lsm) * np.sum(dy, axis=self.axis, keepdims=True)

    def L_op(self, inputs, outputs, output_grads):
        (dy, lsm), (g,) = inputs, output_grads
        sm = exp(lsm)
        g_dy = g - tensor_sum(g * sm, axis=self.axis, keepdims=True)
        g_lsm = -g * sm * tensor_sum(dy, axis=self.axis, keepdims=True)
        return [g_dy, g_lsm]


Softmax.grad_op, LogSoftmax.grad_op = SoftmaxGrad, LogSoftmaxGrad


# -- categorical cross-entropies (rows of classes, one true class per row) ------------------

class _OneHotOp(Op):
    """An op over rows of classes with one true class index per row (the last input)."""

    def connection_pattern(self, node):
        return [[True]] * (len(node.inputs) - 1) + [[False]]   # indices select, they are not values

    def _checked(self, matrix, idx):
        matrix = np.asarray(matrix)
        return check_class_indices(self, idx, matrix.shape[0], matrix.shape[1])


class _RowLoss(_OneHotOp):
    """One loss per row of a matrix (``matrix_name``) and its true class indices:
    ``row_loss(matrix, rows, idx)`` in numpy; the gradient is the fused ``grad_op``."""

    matrix_name = row_loss = grad_op = None

    def make_node(self, matrix, true_idx):
        matrix = _class_matrix(self, self.matrix_name, matrix)
        idx = _class_indices(self, true_idx)
        return Apply(self, [matrix, idx], [TensorType(matrix.dtype, matrix.type.shape[:1])()])

    def perform(self, node, inputs):
        matrix, idx = inputs
        idx = self._checked(matrix, idx)
        return _reference(node, lambda m: self.row_loss(m, np.arange(len(idx)), idx), matrix)

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0][:1]]

    def L_op(self, inputs, outputs, output_grads):
        matrix, idx = inputs
        return [self.grad_op()(output_grads[0], matrix, idx), None]


class _RowLossGrad(_OneHotOp):
    """The gradient of a _RowLoss: inputs (g_nll, the matrix, true_idx), a matrix out;
    ``dx(g, matrix, rows, idx)`` in numpy."""

    matrix_name = dx = None

    def make_node(self, g_nll, matrix, true_idx):
        g = _row_vector(self, "g_nll", g_nll)
        matrix = _class_matrix(self, self.matrix_name, matrix)
        g, matrix = _same_float_dtype(g, matrix)
        return Apply(self, [g, matrix, _class_indices(self, true_idx)], [TensorType(matrix.dtype, matrix.type.shape)()])

    def perform(self, node, inputs):
        g, matrix, idx = inputs
        idx = self._checked(matrix, idx)
        return _reference(node, lambda g, m: self.dx(g, m, np.arange(len(idx)), idx), g, matrix)

    def infer_shape(self, node, input_shapes):
        return [input_shapes[1]]


class CrossentropyCategorical1Hot(_RowLoss):
    """nll[i] = -log(coding_dist[i, true_idx[i]]) for a matrix of class probabilities."""

    matrix_name = "coding_dist"

    @staticmethod
    def row_loss(coding, rows, idx):
        return -np.log(coding[rows, idx])


class CrossentropyCategorical1HotGrad(_RowLossGrad):
    """The gradient of CrossentropyCategorical1Hot: inputs (g_nll, coding_dist,
    true_idx); a matrix of zeros but at each row's class, -g_nll / coding_dist."""

    matrix_name = "coding_dist"

    @staticmethod
    def dx(g, coding, rows, idx):
        out = np.zeros_like(coding)
        out[rows, idx] = -g / coding[rows, idx]
        return out

    def L_op(self, inputs, outputs, output_grads):
        (g, coding, idx), (gz,) = inputs, output_grads
        at_class = _one_hot(idx, coding.shape[1], "bool")
        zero = cast(0, coding.dtype)
        g_g = tensor_sum(switch(at_class, -gz / coding, zero), axis=1)
        g_coding = switch(at_class, gz * g.dimshuffle(0, "x") / (coding * coding), zero)
        return [g_g, g_coding, None]


class CrossentropySoftmax1Hot(_RowLoss):
    """nll[i] = -log(softmax(x)[i, true_idx[i]]) from the logits x, computed as
    logsumexp(x[i]) - x[i, true_idx[i]]: finite for any finite logits."""

    matrix_name = "x"

    @staticmethod
    def row_loss(x, rows, idx):
        return -_log_softmax_reference(x, 1)[rows, idx]


class CrossentropySoftmax1HotDx(_RowLossGrad):
    """The gradient of CrossentropySoftmax1Hot: inputs (g_nll, x, true_idx);
    (softmax(x) - one_hot(true_idx)) * g_nll[:, None]."""

    matrix_name = "x"

    @staticmethod
    def dx(g, x, rows, idx):
        sm = _softmax_reference(x, 1)
        sm[rows, idx] -= 1
        return sm * g[:, None]

    def L_op(self, inputs, outputs, output_grads):
        (g, x, idx), (gz,) = inputs, output_grads
        sm = Softmax(1)(x)
        g_g = tensor_sum(gz * (sm - _one_hot(idx, x.shape[1], x.dtype)), axis=1)
        # dx is g * (sm - one_hot): through sm, the softmax gradient of gz * g
        return [g_g, SoftmaxGrad(1)(gz * g.dimshuffle(0, "x"), sm), None]


CrossentropyCategorical1Hot.grad_op = CrossentropyCategorical1HotGrad
CrossentropySoftmax1Hot.grad_op = CrossentropySoftmax1HotDx


# -- the functions --------------------------------------------------------------------------

def softmax(x, axis=-1):
    """exp(x) / sum(exp(x)) along ``axis``, stable for inputs of any size."""
    return Softmax(axis)(x)


def log_softmax(x, axis=-1):
    """log(softmax(x)) along ``axis``, finite wherever the log-probability is."""
    return LogSoftmax(axis)(x)


def categorical_crossentropy(coding_dist, true_dist):
    """The cross-entropy of each row of ``coding_dist`` (class probabilities) against
    ``true_dist``: a vector of integer class indices (-log of each row's true class),
    or a distribution of coding_dist's shape (-sum(true_dist * log(coding_dist)) over
    the last axis), as Theano."""
    coding, true = as_tensor_variable(coding_dist), as_tensor_variable(true_dist)
    if true.ndim == coding.ndim:
        return -tensor_sum(true * log(coding), axis=coding.ndim - 1)
    if true.ndim == coding.ndim - 1:
        return CrossentropyCategorical1Hot()(coding, true)
    raise TypeError(f"categorical_crossentropy: true_dist must have as many dimensions as coding_dist "
                    f"({coding.ndim}, a distribution) or one fewer (class indices), got {true} with "
                    f"{true.ndim}")


def crossentropy_softmax_1hot(x, true_idx):
    """(nll, softmax(x)) for a matrix of logits ``x`` and integer class indices, as
    Theano: nll[i] = -log(softmax(x)[i, true_idx[i]]), computed stably from x."""
    return CrossentropySoftmax1Hot()(x, true_idx), Softmax(-1)(x)


__all__ = ["Softmax", "LogSoftmax", "SoftmaxGrad", "LogSoftmaxGrad", "CrossentropyCategorical1Hot",
           "CrossentropyCategorical1HotGrad", "CrossentropySoftmax1Hot", "CrossentropySoftmax1HotDx",
           "softmax", "log_softmax", "categorical_crossentropy", "crossentropy_softmax_1hot"]
