"""clgraph.tensor.nnet (T.nnet): the functions of neural networks.

Elementwise activations (sigmoid, softplus, relu, elu) and binary cross-entropies are in
``basic``; softmax, log_softmax, their gradients and the categorical cross-entropies, each
a fused kernel on devices, are in ``softmax``. The stabilizing rewrites that keep their
compositions finite are in clgraph.rewrite.stabilize.
"""
from .basic import *  # noqa: F401,F403
from .softmax import *  # noqa: F401,F403
