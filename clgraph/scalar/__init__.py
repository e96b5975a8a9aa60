"""Scalar operations: the one table elementwise ops, kernels and printing are built from."""
from .basic import SCALAR_OPS, ScalarOp, upcast, upgrade_to_float

__all__ = ["SCALAR_OPS", "ScalarOp", "upcast", "upgrade_to_float"]
