"""clgraph: a Theano-style symbolic tensor compiler for OpenCL and CUDA devices."""
__version__ = "0.1.0"

from clgraph.configdefaults import config  # noqa: E402  (flags are read at import)
from clgraph import graph, printing, tensor  # noqa: E402
from clgraph import gradient  # noqa: E402
from clgraph.gradient import Lop, Rop, grad, verify_grad  # noqa: E402
from clgraph.compile.function import function  # noqa: E402
from clgraph.compile.io import In, Out, Param  # noqa: E402
from clgraph.compile.mode import Mode  # noqa: E402
from clgraph.compile.sharedvalue import shared  # noqa: E402
from clgraph.printing import pp  # noqa: E402
from clgraph import ifelse, scan_module  # noqa: E402
from clgraph.scan_module import scan, until  # noqa: E402

# theano.map, theano.reduce, theano.foldl, theano.foldr: attributes, left out of __all__
# so that ``from clgraph import *`` keeps the builtins map and reduce
foldl, foldr, map, reduce = scan_module.foldl, scan_module.foldr, scan_module.map, scan_module.reduce

__all__ = ["In", "Lop", "Mode", "Rop", "Out", "Param", "config", "function", "grad", "gradient", "graph", "pp",
           "ifelse", "printing", "scan", "scan_module", "shared", "tensor", "until", "verify_grad",
           "__version__"]
