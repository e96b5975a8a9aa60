"""The reference evaluator: runs a graph with each op's numpy ``perform``.

It backs ``Variable.eval`` (and later FAST_COMPILE and DebugMode): inputs are checked
against their types, then nodes run in topological order. An op that fails is named
with the shapes and dtypes it was given.
"""
from clgraph.configdefaults import config

from .basic import Constant, Variable, graph_inputs, io_toposort


def check_input(index, variable, value, allow_downcast=None, strict=False, label="clgraph function"):
    """``value`` filtered into ``variable``'s type; TypeError naming the input (and the
    function, by ``label``) otherwise."""
    try:
        return variable.type.filter(value, strict=strict, allow_downcast=allow_downcast)
    except TypeError as exc:
        raise TypeError(f"Bad input argument to {label} at index {index} (0-based), "
                        f"variable {variable}: {exc}") from None


def evaluate(outputs, givens):
    """Values of ``outputs`` given ``{input variable: value}``."""
    needed = [v for v in graph_inputs(outputs) if not isinstance(v, Constant)]
    given = list(givens.items())
    for var, _ in given:
        if not isinstance(var, Variable):
            raise TypeError(f"eval keys must be variables, got {type(var).__name__} {var!r}")
        if all(var is not v for v in needed):
            raise ValueError(f"eval was given a value for {var}, which the graph of "
                             f"{', '.join(map(str, outputs))} does not use")
    values = {id(var): check_input(i, var, value) for i, (var, value) in enumerate(given)}
    for var in needed:   # shared variables not given a value use their own
        if id(var) not in values and hasattr(var, "get_value"):
            values[id(var)] = var.get_value(borrow=True)
    missing = [v for v in needed if id(v) not in values]
    if missing:
        raise ValueError(f"missing input values for {', '.join(map(str, missing))}: pass them to eval "
                         "as a dict {variable: value}")
    for node in io_toposort(needed, outputs):
        args = [values[id(v)] if id(v) in values else v.data for v in node.inputs]
        for output, result in zip(node.outputs, run_node(node, args)):
            values[id(output)] = result
    return [values[id(v)] if id(v) in values else v.data for v in outputs]


def run_node(node, args, check=True, **options):
    """``node.op.perform`` on ``args`` (and ``options``, keywords of perform), with
    errors naming the op and its inputs; with ``check``, each result is checked against
    its output's type."""
    try:
        results = node.op.perform(node, args, **options)
    except Exception as exc:
        shapes = ", ".join(str(getattr(a, "shape", ())) for a in args)
        dtypes = ", ".join(str(getattr(a, "dtype", type(a).__name__)) for a in args)
        message = f"{node.op} failed on inputs of shapes {shapes} (dtypes {dtypes}): {exc}"
        if config.exception_verbosity == "high":
            from clgraph.printing import debugprint

            message += "\nThe node and the graph computing its inputs:\n" + debugprint(
                node, file="str", print_type=True)
        try:
            error = type(exc)(message)
        except Exception:
            error = RuntimeError(message)
        raise error.with_traceback(exc.__traceback__) from exc
    if len(results) != len(node.outputs):
        raise RuntimeError(f"{node.op} produced {len(results)} outputs, {len(node.outputs)} expected")
    for output, result in zip(node.outputs, results if check else ()):   # results fit their types
        try:
            output.type.filter(result, strict=True)
        except TypeError as exc:
            raise RuntimeError(f"{node.op} produced a value that does not fit its output "
                               f"{output}: {exc}") from None
    return results
