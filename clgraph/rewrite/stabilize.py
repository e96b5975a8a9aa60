"""Stabilizing rewrites: compositions that overflow or lose every digit in floating
point become forms that stay finite.

    1 / (1 + exp(z))            -> sigmoid(-z)    (also inv(1 + exp(z)))
    1 - sigmoid(x)              -> sigmoid(-x)
    log(sigmoid(x))             -> -softplus(-x)
    log(1 + exp(x)), log1p(exp(x)) -> softplus(x)
    log(softmax(x))             -> log_softmax(x)
    categorical crossentropy of softmax(x) with class indices
                                -> crossentropy_softmax_1hot(x, indices)

So the logistic regression of the source documents, written with 1 / (1 + exp(-z)) and
logs, and the cross-entropy of a softmax, stay finite for logits of any size. The pass
``stabilize`` runs them on compiled graphs; gradient.grad differentiates a stabilized
copy of the cost (local.apply_to_expressions), so the gradients are the stable forms'.
"""
from .basic import _is_filled_with, _owner_scalar_name, _scalar_name
from .db import register
from .local import apply_to_graph


def _T():
    import clgraph.tensor as T   # the tensor package imports the rewrites' users

    return T


def _ones_and_other(var):
    """For ``var`` = 1 + y (an add of two inputs, one filled with ones): y; else None."""
    if _owner_scalar_name(var) != "add" or len(var.owner.inputs) != 2:
        return None
    a, b = var.owner.inputs
    return b if _is_filled_with(a, 1) else a if _is_filled_with(b, 1) else None


def _exp_argument(var):
    return var.owner.inputs[0] if var is not None and _owner_scalar_name(var) == "exp" else None


def _sigmoid_of_reciprocal(node):
    """1 / (1 + exp(z)) and inv(1 + exp(z)) -> sigmoid(-z)."""
    name = _scalar_name(node)
    if name == "true_div" and _is_filled_with(node.inputs[0], 1):
        denominator = node.inputs[1]
    elif name == "inv":
        denominator = node.inputs[0]
    else:
        return None
    z = _exp_argument(_ones_and_other(denominator))
    return None if z is None else _T().nnet.sigmoid(-z)


def _one_minus_sigmoid(node):
    """1 - sigmoid(x) -> sigmoid(-x)."""
    if _scalar_name(node) != "sub" or not _is_filled_with(node.inputs[0], 1):
        return None
    s = node.inputs[1]
    return _T().nnet.sigmoid(-s.owner.inputs[0]) if _owner_scalar_name(s) == "sigmoid" else None


def _log_of(node):
    """The argument of a log node; None for other nodes."""
    return node.inputs[0] if _scalar_name(node) == "log" else None


def _log_sigmoid(node):
    """log(sigmoid(x)) -> -softplus(-x)."""
    s = _log_of(node)
    if s is None or _owner_scalar_name(s) != "sigmoid":
        return None
    return -_T().nnet.softplus(-s.owner.inputs[0])


def _softplus(node):
    """log(1 + exp(x)) and log1p(exp(x)) -> softplus(x)."""
    name = _scalar_name(node)
    if name == "log":
        x = _exp_argument(_ones_and_other(node.inputs[0]))
    elif name == "log1p":
        x = _exp_argument(node.inputs[0])
    else:
        return None
    return None if x is None else _T().nnet.softplus(x)


def _log_softmax(node):
    """log(softmax(x)) -> log_softmax(x), along the same axis."""
    from clgraph.tensor.nnet.softmax import LogSoftmax, Softmax

    sm = _log_of(node)
    if sm is None or sm.owner is None or not isinstance(sm.owner.op, Softmax):
        return None
    return LogSoftmax(sm.owner.op.axis)(sm.owner.inputs[0])


def _crossentropy_of_softmax(node):
    """The categorical crossentropy of softmax(x) (rows) with class indices ->
    crossentropy_softmax_1hot(x, indices): the log of the softmax is never formed."""
    from clgraph.tensor.nnet.softmax import CrossentropyCategorical1Hot, CrossentropySoftmax1Hot, Softmax

    if not isinstance(node.op, CrossentropyCategorical1Hot):
        return None
    sm, indices = node.inputs
    if sm.owner is None or not isinstance(sm.owner.op, Softmax) or sm.owner.op.axis != sm.ndim - 1:
        return None
    return CrossentropySoftmax1Hot()(sm.owner.inputs[0], indices)


STABILIZING_REWRITES = (_sigmoid_of_reciprocal, _one_minus_sigmoid, _log_sigmoid, _softplus, _log_softmax,
                        _crossentropy_of_softmax)


@register("stabilize", 15, "fast_run", "fast_compile")
def stabilize(fgraph):
    apply_to_graph(fgraph, STABILIZING_REWRITES)

