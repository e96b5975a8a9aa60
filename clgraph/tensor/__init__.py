"""clgraph.tensor (imported as T): symbolic tensors and every operation on them."""
from . import basic, join, math, shape_ops, sort, subtensor
from .basic import *  # noqa: F401,F403
from .elemwise import DimShuffle, Elemwise
from .join import *  # noqa: F401,F403
from .math import *  # noqa: F401,F403
from .shape_ops import *  # noqa: F401,F403
from .sort import *  # noqa: F401,F403
from .subtensor import *  # noqa: F401,F403
from .transfer import DeviceTensorType, Transfer, transfer
from .type import CONSTRUCTORS, TensorType, tensor
from .variable import TensorConstant, TensorVariable

globals().update(CONSTRUCTORS)

from . import nnet  # noqa: E402  (T.nnet, as Theano)
from . import random, shared_randomstreams  # noqa: E402,F401  (T.random, T.shared_randomstreams)

from clgraph.gradient import Lop, Rop, grad, hessian, jacobian, verify_grad  # noqa: E402  (T.grad, as Theano)
