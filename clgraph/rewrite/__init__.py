"""Graph rewrites: named passes in a database, selected by tags."""
from .db import REWRITES, register, rewrite_graph
from . import basic  # noqa: E402,F401  (registers the passes)

__all__ = ["REWRITES", "register", "rewrite_graph"]
