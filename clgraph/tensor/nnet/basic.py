"""Elementwise activations and binary cross-entropies.

sigmoid and softplus are scalar ops of the table (one kernel step each, finite for any
finite input); relu, elu and the cross-entropies are graphs of elementwise ops, so
fusion puts each in one kernel with its neighbours. The stabilizing rewrites
(clgraph.rewrite.stabilize) turn log(sigmoid(x)), log(1 - sigmoid(x)) and
log(1 + exp(x)) into softplus forms, so binary_crossentropy of a sigmoid stays finite.
"""
from ..basic import ELEMENTWISE, as_tensor_variable, expm1, gt, log, maximum, switch

__all__ = ["sigmoid", "softplus", "relu", "elu", "binary_crossentropy", "sigmoid_binary_crossentropy"]

sigmoid = ELEMENTWISE["sigmoid"]     # 1 / (1 + exp(-x))
softplus = ELEMENTWISE["softplus"]   # log(1 + exp(x))


def relu(x, alpha=0):
    """max(x, 0); with ``alpha``, the leaky form: x where x > 0, else alpha * x."""
    x = as_tensor_variable(x)
    if isinstance(alpha, (int, float)) and alpha == 0:
        return maximum(x, 0)
    return switch(gt(x, 0), x, alpha * x)


def elu(x, alpha=1):
    """x where x > 0, else alpha * (exp(x) - 1)."""
    x = as_tensor_variable(x)
    return switch(gt(x, 0), x, alpha * expm1(x))


def binary_crossentropy(output, target):
    """-(target * log(output) + (1 - target) * log(1 - output)), elementwise: ``output``
    holds probabilities (a sigmoid's, typically: the rewrites keep that finite)."""
    output, target = as_tensor_variable(output), as_tensor_variable(target)
    return -(target * log(output) + (1 - target) * log(1 - output))


def sigmoid_binary_crossentropy(output, target):
    """binary_crossentropy(sigmoid(output), target) computed from the logits ``output``
    as softplus(output) - target * output: finite for any finite logits."""
    output, target = as_tensor_variable(output), as_tensor_variable(target)
    return softplus(output) - target * output
