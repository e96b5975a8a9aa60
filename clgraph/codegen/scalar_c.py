"""C for scalar operations, for either dialect, from the scalar table.

The table gives each operation one C expression; where numpy's meaning depends on the
dtype (integer floor division and modulo, integer abs, NaN-propagating minimum and
maximum, bool casts) an override below gives the expression per dtype kind. Each step
computes in its output dtype (float16 in float), so results match numpy's promotion.
"""
import numpy as np

from clgraph.backends.dtypes import c_name


class NoDeviceCode(Exception):
    """An operation (for these dtypes) that kernels do not implement; it runs on the host."""


def compute_type(dtype):
    """The C type a step computes in: float16 is stored as half but computed as float."""
    dtype = np.dtype(dtype)
    return "ga_float" if dtype == np.float16 else c_name(dtype)


def _float(kind):
    return kind == "f"


def _override(name, args, kinds, out_kind, out_type):
    """Expressions whose C spelling depends on the dtypes; None: use the table's."""
    a = args[0]
    b = args[1] if len(args) > 1 else None
    if name == "int_div":
        return f"floor({a} / {b})" if _float(out_kind) else \
            f"({b} == 0 ? ({out_type})0 : ({a} / {b} - ((({a} % {b}) != 0) & ((({a} < 0)) != (({b} < 0))))))"
    if name == "mod":
        if _float(out_kind):
            return f"({b} == 0 ? ({out_type})NAN : (fmod({a}, {b}) + ((fmod({a}, {b}) != 0 && (fmod({a}, {b}) < 0) != ({b} < 0)) ? {b} : 0)))"
        return f"({b} == 0 ? ({out_type})0 : ({a} % {b} + ((({a} % {b}) != 0 && (({a} % {b}) < 0) != ({b} < 0)) ? {b} : 0)))"
    if name == "abs":
        return f"fabs({a})" if _float(out_kind) else f"({a} < 0 ? -{a} : {a})"
    if name in ("minimum", "maximum"):
        cmp = "<" if name == "minimum" else ">"
        if _float(out_kind):   # numpy propagates NaN
            return f"((isnan({a}) || {a} {cmp} {b}) ? {a} : {b})"
        return f"({a} {cmp} {b} ? {a} : {b})"
    if name == "clip":
        c = args[2]
        low = f"((isnan({a}) || {a} > {b}) ? {a} : {b})" if _float(out_kind) else f"({a} > {b} ? {a} : {b})"
        return f"(({low}) < {c} ? ({low}) : {c})" if not _float(out_kind) else \
            f"((isnan({low}) || ({low}) < {c}) ? ({low}) : {c})"
    if name == "sgn":
        sign = f"(({a} > 0) - ({a} < 0))"
        return f"(isnan({a}) ? {a} : ({out_type}){sign})" if _float(out_kind) else sign
    if name == "invert":
        return f"(!{a})" if out_kind == "b" else f"(~{a})"
    if name in ("isnan", "isinf"):
        return f"{name}({a})" if _float(kinds[0]) else "0"
    if name == "pow" and not _float(out_kind):
        raise NoDeviceCode("integer power")
    if name == "identity" and out_kind == "b":
        return f"({a} != 0)"
    return None


def c_expression(op, args, arg_dtypes, out_dtype, type_name=None):
    """A C expression for ``op`` applied to the expressions ``args``.

    Arguments are converted to the type the operation computes in first (their upcast
    for comparisons and switch's condition aside), as numpy promotes before computing.
    ``type_name`` replaces that type (a vector type such as float16 on CPU devices).
    """
    out_dtype = np.dtype(out_dtype)
    out_type = type_name or compute_type(out_dtype)
    kinds = [np.dtype(d).kind for d in arg_dtypes]
    if op.output == "bool":            # comparisons compute in the inputs' common type
        common = compute_type(np.result_type(*arg_dtypes))
        args = [f"(({common}){x})" for x in args]
    elif op.name == "switch":
        args = [args[0]] + [f"(({out_type}){x})" for x in args[1:]]
    elif op.name != "identity":
        args = [f"(({out_type}){x})" for x in args]
    expression = _override(op.name, args, kinds, out_dtype.kind, out_type)
    if expression is None:
        if op.output == "float" and out_dtype.kind != "f":
            raise NoDeviceCode(f"{op.name} with output {out_dtype}")
        if op.joiner:
            expression = "(" + op.joiner.join(args) + ")"
        else:
            expression = op.c.format(*args, t=out_type)
    if op.name == "identity":
        return expression if out_dtype.kind == "b" else f"(({out_type}){args[0]})"
    return expression


def render_steps(scalar_op, in_exprs, in_dtypes, out_dtypes, type_name=None):
    """C statements computing ``scalar_op`` (a ScalarOp or a Composite) of ``in_exprs``.

    Returns (statements, output expressions). Every statement declares one temporary,
    of its step's compute type, or of ``type_name`` when given (vector code).
    """
    body = getattr(scalar_op, "body", None)
    if body is None:   # a single scalar op: one step over all inputs
        body = [(scalar_op, [("i", k) for k in range(len(in_exprs))], out_dtypes[0])]
        outputs = [("t", 0)]
    else:
        outputs = scalar_op.outputs
    statements, names, dtypes = [], [], []

    def ref(r):
        kind, index = r
        return (in_exprs[index], in_dtypes[index]) if kind == "i" else (names[index], dtypes[index])

    for position, (op, args, dtype) in enumerate(body):
        exprs, arg_dtypes = zip(*(ref(r) for r in args))
        name = f"t{position}"
        statement = c_expression(op, exprs, arg_dtypes, dtype, type_name)
        statements.append(f"{type_name or compute_type(dtype)} {name} = {statement};")
        names.append(name)
        dtypes.append(np.dtype(dtype))
    return statements, [ref(r)[0] for r in outputs]
