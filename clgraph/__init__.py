"""clgraph: a Theano-style symbolic tensor compiler for OpenCL and CUDA devices."""
__version__ = "0.1.0"

from clgraph.configdefaults import config  # noqa: E402  (flags are read at import)
from clgraph import graph, printing, tensor  # noqa: E402
from clgraph.printing import pp  # noqa: E402

__all__ = ["config", "graph", "pp", "printing", "tensor", "__version__"]
