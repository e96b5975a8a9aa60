"""clgraph.scan_module: loops in the graph (Theano's scan) and the helpers built on it."""
from . import memory, rewrites  # noqa: F401  (register the scan rewrites)
from .helpers import foldl, foldr, map, reduce
from .op import Scan
from .scan import scan
from .utils import until

__all__ = ["Scan", "foldl", "foldr", "map", "reduce", "scan", "until"]
