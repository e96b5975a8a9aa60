"""The graph core: variables, constants, applications of ops, types and function graphs."""
from .basic import Apply, Constant, Variable, ancestors, clone_replace, graph_inputs, io_toposort
from .fg import FunctionGraph
from .op import Op
from .type import Type

__all__ = ["Apply", "Constant", "FunctionGraph", "Op", "Type", "Variable", "ancestors",
           "clone_replace", "graph_inputs", "io_toposort"]
