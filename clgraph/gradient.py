"""Symbolic differentiation (Theano's ``grad``, ``Lop``) and the finite-difference check
``verify_grad``.

Reverse mode: each node on a path from the ``wrt`` variables to the cost gets the
gradients of its outputs and returns one gradient per input from ``op.L_op(inputs,
outputs, output_grads)``, built from tensor operations. Gradients reaching a variable
along several paths are summed. An op may return, for an input, None or the
disconnected marker (the outputs do not depend on it), or an undefined one
(``grad_undefined``, ``grad_not_implemented``). Outputs of integer or boolean dtype
carry zero gradients, and integer inputs get float zeros, as in Theano.

``op.connection_pattern(node)``, when an op has it, says which outputs depend on which
inputs (a list per input of one bool per output), as Theano's: the shape of a tensor
does not depend on its values, so a Shape node stops the search for paths.
"""
import warnings

import numpy as np

from clgraph.configdefaults import config
from clgraph.graph.basic import Variable, io_toposort
from clgraph.graph.type import Type


class DisconnectedType(Type):
    """Type of the marker an op returns for an input its outputs do not depend on."""

    def __eq__(self, other):
        return type(other) is type(self)

    def __hash__(self):
        return hash(type(self))

    def __str__(self):
        return "DisconnectedType"


class NullType(Type):
    """Type of an undefined gradient; ``why_null`` says why."""

    def __init__(self, why_null="(no explanation given)"):
        self.why_null = why_null

    def __eq__(self, other):
        return type(other) is type(self) and other.why_null == self.why_null

    def __hash__(self):
        return hash((type(self), self.why_null))

    def __str__(self):
        return "NullType"


DisconnectedType.variable_type = NullType.variable_type = Variable


def disconnected_type():
    """The marker for 'this output does not depend on that input'."""
    return DisconnectedType()()


def grad_undefined(op, x_pos, x, comment=""):
    """The marker for an undefined gradient of ``op`` with respect to input ``x_pos`` (``x``)."""
    return NullType(f"The gradient of {op} with respect to its input {x_pos} ({x}) is undefined. "
                    f"{comment}".strip())()


def grad_not_implemented(op, x_pos, x, comment=""):
    """The marker for a gradient ``op`` does not implement for input ``x_pos``."""
    return NullType(f"{op} does not implement the gradient with respect to its input {x_pos} ({x}). "
                    f"{comment}".strip())()


def _is_disconnected(var):
    return isinstance(var.type, DisconnectedType)


def _is_null(var):
    return isinstance(var.type, NullType)


class DisconnectedInputError(ValueError):
    """grad was asked for the gradient with respect to a variable the cost does not use."""


class NullTypeGradError(TypeError):
    """A gradient grad was asked for is undefined."""


class GradientError(Exception):
    """verify_grad: the symbolic and numeric gradients differ beyond the tolerances."""

    def __init__(self, arg, err_pos, shape, val1, val2, abs_err, rel_err, abs_tol, rel_tol):
        super().__init__(
            f"numeric gradient and analytic gradient exceed tolerance: at position {err_pos} of input "
            f"{arg} (shape {shape}): analytic {val1!r}, numeric {val2!r}; max abs. error {abs_err:.6g} "
            f"(abs. tolerance {abs_tol:g}), max rel. error {rel_err:.6g} (rel. tolerance {rel_tol:g})")
        self.arg, self.err_pos, self.shape = arg, err_pos, shape
        self.abs_err, self.rel_err, self.abs_tol, self.rel_tol = abs_err, rel_err, abs_tol, rel_tol


def _discrete(var):
    return np.dtype(var.dtype).kind in "biu"


def float_zeros_like(x):
    """Zeros of the shape of ``x``: its dtype if float, floatX otherwise (Theano's rule for
    the gradient of an integer variable)."""
    import clgraph.tensor as T

    return T.zeros_like(x, dtype=config.floatX if _discrete(x) else x.dtype)


def _connection_pattern(node):
    pattern = getattr(node.op, "connection_pattern", None)
    if pattern is None:
        return [[True] * len(node.outputs) for _ in node.inputs]
    return pattern(node)


def _sum_terms(terms):
    import clgraph.tensor as T

    nulls = [t for t in terms if _is_null(t)]
    if nulls:
        return nulls[0]
    return terms[0] if len(terms) == 1 else T.add(*terms)


def _output_grad(output, grad_value):
    """``grad_value`` in the type of ``output``: same float dtype, and length-1 axes where
    ``output`` has them (so L_op rules can drop or broadcast them)."""
    import clgraph.tensor as T

    if grad_value is None:
        return T.zeros_like(output)
    if _is_null(grad_value) or _discrete(output):
        return grad_value
    if grad_value.dtype != output.dtype:
        grad_value = T.cast(grad_value, output.dtype)
    axes = [a for a, (o, g) in enumerate(zip(output.type.shape, grad_value.type.shape)) if o == 1 != g]
    return T.addbroadcast(grad_value, *axes) if axes else grad_value


def _input_grads(node, relevant, output_grads):
    """The gradient terms of the inputs ``relevant`` marks, from ``output_grads``."""
    if all(_discrete(o) for o in node.outputs):   # integer outputs: zero gradients
        return [float_zeros_like(x) if keep else None for x, keep in zip(node.inputs, relevant)]
    nulls = [g for g in output_grads if g is not None and _is_null(g)]
    if nulls:
        return [nulls[0] if keep else None for keep in relevant]
    if not hasattr(node.op, "L_op"):
        position = relevant.index(True)
        raise NotImplementedError(
            f"grad: {node.op} has no gradient (it defines no L_op), needed with respect to its input "
            f"{position} ({node.inputs[position]}) in node {node}")
    grads = node.op.L_op(node.inputs, node.outputs,
                         [_output_grad(o, g) for o, g in zip(node.outputs, output_grads)])
    if len(grads) != len(node.inputs):
        raise ValueError(f"{node.op}.L_op returned {len(grads)} gradients for {len(node.inputs)} inputs")
    return [_as_input_term(node, x, g) if keep else None for x, g, keep in zip(node.inputs, grads, relevant)]


def _as_input_term(node, x, term):
    import clgraph.tensor as T

    if term is None or _is_disconnected(term) or _is_null(term):
        return term
    if _discrete(x):   # integer inputs take float zeros, whatever the op said
        return float_zeros_like(x)
    term = T.as_tensor_variable(term)
    if term.ndim != x.ndim:
        raise ValueError(f"{node.op}.L_op returned a gradient of {term.ndim} dimensions for input {x} "
                         f"of {x.ndim}")
    return T.cast(term, x.dtype) if term.dtype != x.dtype else term


def _backpropagate(seeds, wrt, consider_constant):
    """{id(variable): its gradient} for the variables between ``wrt`` and the ``seeds``
    (pairs of a variable and its known gradient); absent: disconnected."""
    constant_ids = set(map(id, consider_constant))
    nodes = io_toposort([], [v for v, _ in seeds])
    depends = {id(v) for v in wrt}   # variables that depend on some wrt
    for node in nodes:
        pattern = _connection_pattern(node)
        for j, out in enumerate(node.outputs):
            if id(out) not in constant_ids and any(
                    id(x) in depends and pattern[i][j] for i, x in enumerate(node.inputs)):
                depends.add(id(out))
    terms = {}
    for var, value in seeds:
        terms.setdefault(id(var), []).append(value)
    totals = {}

    def total(var):
        if id(var) not in totals and id(var) in terms:
            totals[id(var)] = _sum_terms(terms[id(var)])
        return totals.get(id(var))

    for node in reversed(nodes):
        if any(id(o) in constant_ids for o in node.outputs):
            continue
        output_grads = [total(o) for o in node.outputs]
        pattern = _connection_pattern(node)
        relevant = [id(x) in depends and any(pattern[i][j] and g is not None
                                             for j, g in enumerate(output_grads))
                    for i, x in enumerate(node.inputs)]
        if not any(relevant):
            continue
        for x, term in zip(node.inputs, _input_grads(node, relevant, output_grads)):
            if term is not None and not _is_disconnected(term):
                terms.setdefault(id(x), []).append(term)
    return {id(v): total(v) for v in wrt if total(v) is not None}


_DISCONNECTED_MESSAGE = (
    "grad method was asked to compute the gradient with respect to a variable that is not part of "
    "the computational graph of the cost, or is used only by a non-differentiable operator: {}")


def _check_choice(name, value, allowed):
    if value not in allowed:
        raise ValueError(f"grad: {name} must be one of {', '.join(map(repr, allowed))}, got {value!r}")


def grad(cost, wrt, consider_constant=None, disconnected_inputs="raise", known_grads=None,
         return_disconnected="zero", null_gradients="raise"):
    """The gradient of the scalar ``cost`` with respect to ``wrt`` (a variable, or a list or
    tuple of them: the result has the same structure).

    ``consider_constant``: variables whose gradient is not propagated to their inputs.
    ``disconnected_inputs``: 'raise' (DisconnectedInputError), 'warn' or 'ignore' when a
    ``wrt`` does not reach the cost; its gradient is then, by ``return_disconnected``,
    zeros ('zero'), None ('None') or the disconnected marker ('Disconnected').
    ``known_grads``: {variable: its gradient}, added to (or, with ``cost=None``, used
    instead of) the cost's. ``null_gradients``: 'raise' (NullTypeGradError) or 'return'
    the undefined marker.
    """
    import clgraph.tensor as T

    _check_choice("disconnected_inputs", disconnected_inputs, ("raise", "warn", "ignore"))
    _check_choice("return_disconnected", return_disconnected, ("zero", "None", "Disconnected"))
    _check_choice("null_gradients", null_gradients, ("raise", "return"))
    if cost is None and not known_grads:
        raise ValueError("grad: give a cost or known_grads")
    seeds = [(T.as_tensor_variable(v), T.as_tensor_variable(g)) for v, g in (known_grads or {}).items()]
    if cost is not None:
        cost = T.as_tensor_variable(cost)
        if cost.ndim != 0:
            raise TypeError(f"cost must be a scalar: grad got {cost} with {cost.ndim} dimensions "
                            "(sum it, or use Lop for a vector-Jacobian product)")
    single = isinstance(wrt, Variable)
    wrt_list = [wrt] if single else list(wrt)
    for var in wrt_list:
        if not isinstance(var, Variable):
            raise TypeError(f"grad: wrt must be variables, got {type(var).__name__} {var!r}")
    if cost is not None:
        one = T.constant(np.ones((), dtype=config.floatX if _discrete(cost) else cost.dtype))
        cost = _stabilized(cost, wrt_list + list(consider_constant or []) + [v for v, _ in seeds])
        seeds.append((cost, T.second(cost, one)))
    grads = _backpropagate(seeds, wrt_list, list(consider_constant or []))
    results = [_final_grad(var, grads.get(id(var)), disconnected_inputs, return_disconnected,
                           null_gradients) for var in wrt_list]
    return results[0] if single else type(wrt)(results)


def _stabilized(cost, named):
    """``cost`` computed by its stabilized graph (clgraph.rewrite.stabilize), whose
    gradients stay finite where the written form's overflow (1 / (1 + exp(z)) and its
    logs). The variables the caller names stay in it: a rewrite that would compute past
    one of them is not taken there, and the cost is differentiated there as written."""
    from clgraph.rewrite.local import apply_to_expressions
    from clgraph.rewrite.stabilize import STABILIZING_REWRITES

    (stable,) = apply_to_expressions([cost], STABILIZING_REWRITES, keep=named)
    return stable


def _final_grad(var, value, disconnected_inputs, return_disconnected, null_gradients):
    if value is not None and _is_null(value):
        if null_gradients == "raise":
            raise NullTypeGradError(f"grad: the gradient with respect to {var} is undefined: "
                                    f"{value.type.why_null}")
        return value
    if value is not None:
        return value
    message = _DISCONNECTED_MESSAGE.format(var)
    if disconnected_inputs == "raise":
        raise DisconnectedInputError(message)
    if disconnected_inputs == "warn":
        warnings.warn(message, stacklevel=3)
    if return_disconnected == "zero":
        return float_zeros_like(var)
    return None if return_disconnected == "None" else disconnected_type()


def Lop(f, wrt, eval_points, consider_constant=None, disconnected_inputs="raise"):
    """The vector-Jacobian product: the gradient with respect to ``wrt`` of
    ``sum(f * eval_points)`` (``f`` and ``eval_points`` a variable or lists of them)."""
    fs = f if isinstance(f, (list, tuple)) else [f]
    points = eval_points if isinstance(eval_points, (list, tuple)) else [eval_points]
    if len(fs) != len(points):
        raise ValueError(f"Lop: {len(fs)} outputs but {len(points)} evaluation points")
    return grad(None, wrt, consider_constant=consider_constant,
                disconnected_inputs=disconnected_inputs, known_grads=dict(zip(fs, points)))


def Rop(f, wrt, eval_points, disconnected_outputs="raise"):
    """The Jacobian-vector product: the derivative of ``f`` with respect to ``wrt`` along
    ``eval_points`` (one per ``wrt``, of its type). Computed from two reverse passes:
    g(u) = Lop(f, wrt, u) is linear in u, so d<g(u), v>/du = J v; u is then replaced by
    zeros of f's shape, since the result does not depend on its value.
    ``disconnected_outputs``: what an output that does not depend on ``wrt`` gets:
    "raise" an error naming it, "warn" and zeros, or "ignore" and zeros."""
    import clgraph.tensor as T
    from clgraph.graph.basic import clone_replace

    _check_choice("disconnected_outputs", disconnected_outputs, ("raise", "warn", "ignore"))
    fs = list(f) if isinstance(f, (list, tuple)) else [f]
    wrts = list(wrt) if isinstance(wrt, (list, tuple)) else [wrt]
    points = list(eval_points) if isinstance(eval_points, (list, tuple)) else [eval_points]
    if len(wrts) != len(points):
        raise ValueError(f"Rop: {len(wrts)} variables to differentiate by but {len(points)} "
                         "evaluation points")
    for x, v in zip(wrts, points):
        if getattr(v, "ndim", None) != x.ndim:
            raise TypeError(f"Rop: the evaluation point {v} of {x} must have its ndim ({x.ndim}), "
                            f"got {getattr(v, 'ndim', type(v).__name__)}")
    dummies = [y.type() for y in fs]
    pullbacks = Lop(fs, wrts, dummies, disconnected_inputs="ignore")
    total = sum((T.sum(g * v) for g, v in zip(pullbacks, points)), T.constant(0.0))
    products = grad(total, dummies, disconnected_inputs="ignore", return_disconnected="None")
    for j, (product, y) in enumerate(zip(products, fs)):
        if product is None:   # y does not depend on wrt
            message = f"Rop: output {j} ({y}) does not depend on {', '.join(map(str, wrts))}"
            if disconnected_outputs == "raise":
                raise DisconnectedInputError(message + " (disconnected_outputs='ignore' gives zeros)")
            if disconnected_outputs == "warn":
                warnings.warn(message, stacklevel=2)
            products[j] = T.zeros_like(y)
    products = clone_replace(products, {u: T.zeros_like(y) for u, y in zip(dummies, fs)})
    products = [T.cast(p, y.dtype) if p.dtype != y.dtype else p for p, y in zip(products, fs)]
    return products if isinstance(f, (list, tuple)) else products[0]


def jacobian(expression, wrt, consider_constant=None, disconnected_inputs="raise"):
    """The Jacobian of ``expression`` with respect to ``wrt`` (a variable, or a list or
    tuple of them: the result has the same structure): J[i] = grad(expression[i], wrt),
    one row per element of ``expression`` (flattened), each of wrt's shape. A scalar
    expression gives its gradient. Computed, as Theano does, by a scan over the
    elements, whose inner function is the gradient of one of them."""
    import clgraph.tensor as T
    from clgraph.scan_module import scan

    expression = T.as_tensor_variable(expression)
    single = isinstance(wrt, Variable)
    wrt_list = [wrt] if single else list(wrt)
    if expression.ndim == 0:
        return grad(expression, wrt, consider_constant=consider_constant, disconnected_inputs=disconnected_inputs)
    if expression.ndim > 1:
        expression = expression.flatten()

    def rows(i, expression, *wrt_list):
        return [grad(expression[i], x, consider_constant=consider_constant, disconnected_inputs=disconnected_inputs)
                for x in wrt_list]

    jacobians, updates = scan(rows, sequences=T.arange(expression.shape[0]), non_sequences=[expression] + wrt_list,
                              return_list=True)
    if updates:
        raise ValueError(f"jacobian: differentiating {expression} made updates of shared variables "
                         f"({', '.join(map(str, updates))}); random draws cannot be differentiated")
    return jacobians[0] if single else type(wrt)(jacobians)


def hessian(cost, wrt, consider_constant=None, disconnected_inputs="raise"):
    """The Hessian of the scalar ``cost`` with respect to ``wrt`` (a vector, or a list or
    tuple of vectors): the Jacobian of its gradient."""
    import clgraph.tensor as T

    cost = T.as_tensor_variable(cost)
    if cost.ndim != 0:
        raise TypeError(f"hessian: cost must be a scalar, got {cost} with {cost.ndim} dimensions")
    single = isinstance(wrt, Variable)
    wrt_list = [wrt] if single else list(wrt)
    for x in wrt_list:
        if getattr(x, "ndim", None) != 1:
            raise TypeError(f"hessian: wrt must be vectors, got {x} with {getattr(x, 'ndim', None)} dimensions "
                            "(flatten a matrix before building the cost)")
    hessians = [jacobian(grad(cost, x, consider_constant=consider_constant, disconnected_inputs=disconnected_inputs),
                         x, consider_constant=consider_constant, disconnected_inputs=disconnected_inputs)
                for x in wrt_list]
    return hessians[0] if single else type(wrt)(hessians)


# ---------------------------------------------------------------------------------------
# the finite-difference check

_TOLERANCE = {"float16": 5e-2, "float32": 1e-2, "float64": 1e-4}
_EPSILON = {"float16": 1e-1, "float32": 1e-3, "float64": 1e-6}


def numeric_grad(cost_fn, points, eps=None):
    """Central differences of the scalar ``cost_fn(*points)``, one float64 array per point."""
    grads = []
    for k, point in enumerate(points):
        step = eps or _EPSILON[str(point.dtype)]
        base = point.astype(np.float64)
        gradient = np.zeros(point.shape)
        for index in np.ndindex(*point.shape):
            values = []
            for sign in (1, -1):
                shifted = base.copy()
                shifted[index] += sign * step
                args = list(points)
                args[k] = shifted.astype(point.dtype)
                values.append(float(cost_fn(*args)))
            gradient[index] = (values[0] - values[1]) / (2 * step)
        grads.append(gradient)
    return grads


def verify_grad(fn, pt, n_tests=2, rng=None, eps=None, abs_tol=None, rel_tol=None, mode=None):
    """Check the symbolic gradient of ``fn`` (a function of tensors, returning one tensor)
    at the numpy points ``pt`` against central finite differences; raises GradientError
    naming the input and the largest absolute and relative errors.

    The output is projected on a random tensor (new for each of the ``n_tests``), so the
    check covers every output element.
    """
    import clgraph
    import clgraph.tensor as T

    points = [np.array(p) for p in pt]
    for i, p in enumerate(points):
        if p.dtype.kind != "f":
            raise TypeError(f"verify_grad can work only with floating point inputs, but input {i} "
                            f"has dtype {p.dtype}")
    abs_tol = abs_tol if abs_tol is not None else max(_TOLERANCE[str(p.dtype)] for p in points)
    rel_tol = rel_tol if rel_tol is not None else max(_TOLERANCE[str(p.dtype)] for p in points)
    rng = rng if rng is not None else np.random.default_rng()
    inputs = [T.tensor(str(p.dtype), tuple(1 if n == 1 else None for n in p.shape), name=f"input {i}")
              for i, p in enumerate(points)]
    output = fn(*inputs)
    if isinstance(output, (list, tuple)):
        raise TypeError("verify_grad: fn must return one tensor, not a list")
    output = T.as_tensor_variable(output)
    projection = T.tensor("float64", output.type.shape, name="projection")
    cost = T.sum(T.cast(output, "float64") * projection)
    cost_fn = clgraph.function(inputs + [projection], cost, mode=mode, on_unused_input="ignore")
    grad_fn = clgraph.function(inputs + [projection],
                               grad(cost, inputs, disconnected_inputs="ignore"), mode=mode,
                               on_unused_input="ignore")
    out_shape = np.shape(clgraph.function(inputs, output, mode=mode, on_unused_input="ignore")(*points))
    for _ in range(n_tests):
        weights = rng.random(out_shape) + 0.5
        analytic = [np.asarray(g, dtype=np.float64) for g in grad_fn(*points, weights)]
        numeric = numeric_grad(lambda *args: cost_fn(*args, weights), points, eps)
        _check_close(analytic, numeric, abs_tol, rel_tol)


def _check_close(analytic, numeric, abs_tol, rel_tol):
    worst = None
    for arg, (a, n) in enumerate(zip(analytic, numeric)):
        if a.size == 0:
            continue
        abs_err = np.abs(a - n)
        rel_err = abs_err / np.maximum(np.abs(a) + np.abs(n), 1e-8)
        scaled = np.minimum(abs_err / abs_tol, rel_err / rel_tol)
        pos = int(np.argmax(scaled))
        if worst is None or scaled.flat[pos] > worst[0]:
            worst = (scaled.flat[pos], arg, pos, a.shape, a.flat[pos], n.flat[pos],
                     abs_err.flat[pos], rel_err.flat[pos])
    if worst is not None and worst[6] > abs_tol and worst[7] > rel_tol:
        raise GradientError(*worst[1:], abs_tol, rel_tol)


__all__ = ["DisconnectedInputError", "DisconnectedType", "GradientError", "Lop", "NullType",
           "NullTypeGradError", "Rop", "disconnected_type", "grad", "grad_not_implemented",
           "grad_undefined", "hessian", "jacobian", "numeric_grad", "verify_grad"]
