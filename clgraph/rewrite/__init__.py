"""Graph rewrites: named passes in a database, selected by tags."""
from .db import REWRITES, register, rewrite_graph

__all__ = ["REWRITES", "register", "rewrite_graph"]
