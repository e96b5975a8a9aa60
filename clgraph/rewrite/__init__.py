"""Graph rewrites: named passes in a database, selected by tags."""
from . import basic, blas, stabilize  # noqa: F401  (importing them registers the passes)
from .db import REWRITES, register, rewrite_graph

__all__ = ["REWRITES", "register", "rewrite_graph"]
