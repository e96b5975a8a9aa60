"""Scalar operations: the one table elementwise ops, kernels and printing are built from."""
from .basic import SCALAR_OPS, ScalarOp, upcast, upgrade_to_float
from .composite import Composite

__all__ = ["Composite", "SCALAR_OPS", "ScalarOp", "upcast", "upgrade_to_float"]
