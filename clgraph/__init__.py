"""clgraph: a Theano-style symbolic tensor compiler for OpenCL and CUDA devices."""
__version__ = "0.1.0"

from clgraph.configdefaults import config  # noqa: E402  (flags are read at import)

__all__ = ["config", "__version__"]
