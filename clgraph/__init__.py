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

__all__ = ["In", "Lop", "Mode", "Rop", "Out", "Param", "config", "function", "grad", "gradient", "graph", "pp",
           "printing", "shared", "tensor", "verify_grad", "__version__"]
