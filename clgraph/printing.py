"""Showing graphs: ``pp`` (an expression, as Theano's pretty printer) and ``debugprint``
(one line per variable, with ids, as Theano's).

``pp`` reads how to show an elementwise op from the scalar table (``symbol`` for infix
and prefix operators, ``display`` for the function name). Other ops are shown by rules
registered by op type with :func:`register_pp`; an op without a rule is shown as
``str(op)(inputs)``. Every infix or prefix application is parenthesized, as Theano
does: ``((x + y) * x)``, ``(-x)``.
"""
import io
import sys

from clgraph.graph.basic import Apply, Variable
from clgraph.graph.fg import FunctionGraph

__all__ = ["debugprint", "kernel_source", "pp", "pprint", "register_pp", "PP_RULES"]


# -- pp -------------------------------------------------------------------------------

PP_RULES = {}
"""Op type -> rule(show, node, output) -> str; ``show(variable)`` prints an input."""


def register_pp(op_type, rule=None):
    """Show the outputs of ops of ``op_type`` (and its subclasses) with ``rule``.

    ``rule(show, node, output)`` returns the text of ``output`` (one of ``node.outputs``);
    it calls ``show(variable)`` for the text of the node's inputs. Usable as a decorator:
    ``@register_pp(Sum)``.
    """
    if rule is None:
        return lambda function: register_pp(op_type, function)
    PP_RULES[op_type] = rule
    return rule


def _rule_for(op):
    for klass in type(op).__mro__:
        if klass in PP_RULES:
            return PP_RULES[klass]
    return default_rule


def default_rule(show, node, output):
    """``str(op)(inputs)``, and ``[i]`` for output i of a node with several outputs."""
    text = f"{node.op}({', '.join(show(v) for v in node.inputs)})"
    if len(node.outputs) > 1:
        text += f"[{node.outputs.index(output)}]"
    return text


def function_rule(name):
    """A rule showing a node as ``name(inputs)``."""
    def rule(show, node, output):
        return f"{name}({', '.join(show(v) for v in node.inputs)})"
    return rule


def elemwise_rule(show, node, output):
    op = node.op
    scalar_op = op.scalar_op
    name = getattr(scalar_op, "name", str(scalar_op))
    if getattr(op, "output_dtype", None) is not None and name == "identity":
        return f"Cast{{{op.output_dtype}}}({show(node.inputs[0])})"
    args = [show(v) for v in node.inputs]
    symbol = getattr(scalar_op, "symbol", "")
    if symbol:
        if len(args) == 1:
            return f"({symbol}{args[0]})"
        return "(" + f" {symbol} ".join(args) + ")"
    shown = getattr(scalar_op, "display", "") or name
    return f"{shown}({', '.join(args)})"


def dimshuffle_rule(show, node, output):
    """Leading broadcast axes are not shown (``x * 2.`` is ``(x * TensorConstant{2.0})``);
    a full reversal is ``x.T``; other patterns ``DimShuffle{1,x,0}(x)``."""
    order = list(node.op.new_order)
    (x,) = node.inputs
    while order and order[0] == "x":
        order = order[1:]
    if order == list(range(x.ndim)):
        return show(x)
    if order == list(reversed(range(x.ndim))):
        return f"{show(x)}.T"
    return f"DimShuffle{{{','.join(map(str, node.op.new_order))}}}({show(x)})"


def _register_tensor_rules():
    from clgraph.tensor.elemwise import DimShuffle, Elemwise

    register_pp(Elemwise, elemwise_rule)
    register_pp(DimShuffle, dimshuffle_rule)


_register_tensor_rules()


def pp(var):
    """The expression computing ``var``, e.g. ``'(x + y)'``.

    Inputs print as their name, or as their type when unnamed
    (``<TensorType(float32, matrix)>``); constants as ``TensorConstant{2.0}``; a named
    intermediate variable (other than ``var`` itself) by its name.
    """
    if isinstance(var, Apply):
        var = var.out
    if not isinstance(var, Variable):
        raise TypeError(f"pp prints a graph variable, got {type(var).__name__} {var!r}")
    memo = {}

    def show(v, top=False):
        if v.owner is None or (v.name is not None and not top):
            return str(v)
        key = id(v)
        if key not in memo:
            memo[key] = _rule_for(v.owner.op)(show, v.owner, v)
        return memo[key]

    return show(var, top=True)


pprint = pp


# -- debugprint -----------------------------------------------------------------------

def char_from_number(number):
    """0 -> 'A', 25 -> 'Z', 26 -> 'BA' (Theano's ids)."""
    text = ""
    while True:
        number, remainder = divmod(number, 26)
        text = chr(ord("A") + remainder) + text
        if number == 0:
            return text


def _targets(obj):
    """(variable, topological order or None) pairs to print for ``obj``."""
    if isinstance(obj, (list, tuple)):
        return [pair for item in obj for pair in _targets(item)]
    if isinstance(obj, Variable):
        return [(obj, None)]
    if isinstance(obj, Apply):
        return [(out, None) for out in obj.outputs]
    fgraph = obj if isinstance(obj, FunctionGraph) else getattr(getattr(obj, "maker", None), "fgraph", None)
    if fgraph is not None:
        order = fgraph.toposort()
        return [(out, order) for out in fgraph.outputs]
    raise TypeError(f"debugprint cannot print {type(obj).__name__} {obj!r}: give a variable, "
                    "a list of them, an Apply node, a FunctionGraph or a compiled function")


def debugprint(obj, file=None, print_type=False, ids="CHAR", done=None, depth=-1,
               stop_on_name=False):
    """Print the graph of ``obj``, one line per variable, as Theano's debugprint::

        Elemwise{add,no_inplace} [id A] ''
         |x [id B]
         |y [id C]

    ``obj``: a variable, a list of them, an Apply node, a FunctionGraph or anything with
    ``.maker.fgraph`` (a compiled function); for graphs, node lines end with the node's
    position in the topological order. ``file``: None prints to stdout, ``'str'``
    returns the text, a file object is written to (and returned). ``ids``: ``"CHAR"``
    (A, B, ...), ``"int"``, ``"id"`` (Python ids) or ``""`` (none). ``done``: a dict
    shared between calls to keep ids. ``depth``: levels to print (-1: all).
    ``stop_on_name``: do not expand named intermediate variables.
    """
    if ids not in ("CHAR", "int", "id", ""):
        raise ValueError(f"debugprint ids must be 'CHAR', 'int', 'id' or '', got {ids!r}")
    out = io.StringIO() if file == "str" else (sys.stdout if file is None else file)
    done = {} if done is None else done
    for var, order in _targets(obj):
        _print_variable(var, out, "", "", depth, done, order, print_type, ids, stop_on_name)
    if file == "str":
        return out.getvalue()
    if file is not None:
        return file
    out.flush()
    return None


def _id_of(key, obj, done, ids):
    if key not in done:
        if ids == "CHAR":
            done[key] = f"[id {char_from_number(len(done))}]"
        elif ids == "int":
            done[key] = f"[id {len(done)}]"
        elif ids == "id":
            done[key] = f"[id {id(obj)}]"
        else:
            done[key] = ""
    return done[key]


def _print_variable(var, out, prefix, prefix_child, depth, done, order, print_type, ids,
                    stop_on_name):
    if depth == 0:
        return
    type_str = f" <{var.type}>" if print_type else ""
    node = var.owner
    if node is None:
        id_str = _id_of(id(var), var, done, ids)
        print(f"{prefix}{var}{' ' + id_str if id_str else ''}{type_str}", file=out)
        return
    already_printed = id(node) in done
    id_str = _id_of(id(node), node, done, ids)
    index = "" if len(node.outputs) == 1 else f".{node.outputs.index(var)}"
    name = var.name or ""
    position = str(order.index(node)) if order is not None and node in order else ""
    print(f"{prefix}{node.op}{index}{' ' + id_str if id_str else ''}{type_str} '{name}'   {position}",
          file=out)
    if already_printed or (stop_on_name and var.name is not None):
        return
    for i, inp in enumerate(node.inputs):
        last = i == len(node.inputs) - 1
        _print_variable(inp, out, prefix_child + " |", prefix_child + ("  " if last else " |"),
                        depth - 1, done, order, print_type, ids, stop_on_name)


def kernel_source(function, dialect="opencl"):
    """{kernel name: source} of the kernels a compiled function's device nodes run,
    rendered for ``dialect`` ('opencl' or 'cuda'); the dialect header (cluda.h), which
    the build prepends, is not included."""
    if dialect not in ("opencl", "cuda"):
        raise ValueError(f"dialect must be 'opencl' or 'cuda', got {dialect!r}")
    from clgraph.backends import get_context

    sources = {}
    for node in function.maker.fgraph.toposort():
        if hasattr(node.op, "sources"):
            device = get_context(node.outputs[0].type.context).info
            sources.update(node.op.sources(node, dialect, device))
    return sources
