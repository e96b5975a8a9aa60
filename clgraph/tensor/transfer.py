"""Values on devices: DeviceTensorType, and the Transfer op behind ``x.transfer(ctx)``.

A DeviceTensorType is a TensorType that names the context its values (DeviceArrays)
live on. ``x.transfer('dev0')`` asks for ``x`` on that context; ``x.transfer('cpu')``
for a numpy array on the host. Compiled functions return a DeviceArray for an output
transferred to a device, which lets results stay where they were computed.
"""
import numpy as np

from clgraph.graph.basic import Apply
from clgraph.graph.op import Op

from .type import TensorType


class DeviceTensorType(TensorType):
    """Values: DeviceArrays of ``dtype`` and ``shape`` on the context named ``context``."""

    def __init__(self, dtype, shape=None, context=None, broadcastable=None):
        super().__init__(dtype, shape, broadcastable)
        if not context or context == "cpu":
            raise ValueError("a DeviceTensorType needs a device context name, not cpu")
        self.context = context

    def clone(self, dtype=None, shape=None):
        return DeviceTensorType(dtype or self.dtype, self.shape if shape is None else shape, self.context)

    def host_type(self):
        return TensorType(self.dtype, self.shape)

    def __eq__(self, other):
        return super().__eq__(other) and self.context == other.context

    def __hash__(self):
        return hash((super().__hash__(), self.context))

    def __str__(self):
        return super().__str__().replace("TensorType(", f"DeviceTensorType<{self.context}>(", 1)

    __repr__ = __str__

    def filter(self, value, strict=False, allow_downcast=None):
        from clgraph.backends import DeviceArray, get_context, to_device

        context = get_context(self.context)
        if isinstance(value, DeviceArray):
            if value.context is not context:
                if strict:
                    raise TypeError(f"{self} expects an array on context {self.context!r}, got one on "
                                    f"{value.context.name!r}")
                value = value.transfer(context)
            if str(value.dtype) != self.dtype or value.ndim != self.ndim:
                raise TypeError(f"{self} cannot hold a DeviceArray of dtype {value.dtype} with "
                                f"{value.ndim} dimensions")
            return value
        if strict:
            raise TypeError(f"{self} expects a DeviceArray, got {type(value).__name__}")
        return to_device(self.host_type().filter(value, allow_downcast=allow_downcast), context)


def type_on(context_name, dtype, shape):
    """The tensor type of values on ``context_name`` ('cpu': the host)."""
    if context_name in (None, "cpu"):
        return TensorType(dtype, shape)
    return DeviceTensorType(dtype, shape, context_name)


class Transfer(Op):
    """Moves a tensor to the context ``target`` ('cpu' for the host)."""

    __props__ = ("target",)

    def __init__(self, target):
        self.target = "cpu" if target is None else target

    def make_node(self, x):
        from clgraph.backends import get_context

        from .basic import as_tensor_variable

        x = as_tensor_variable(x)
        target = self.target if self.target == "cpu" else get_context(self.target).name
        return Apply(Transfer(target), [x], [type_on(target, x.dtype, x.type.shape)()])

    def perform(self, node, inputs):
        (x,) = inputs
        return [node.outputs[0].type.filter(np.asarray(x) if self.target == "cpu" else x,
                                            allow_downcast=False)]

    def L_op(self, inputs, outputs, output_grads):
        # the gradient goes back to where the input lives
        return [transfer(output_grads[0], getattr(inputs[0].type, "context", "cpu"))]

    def __str__(self):
        return f"Transfer<{self.target}>"


def transfer(x, target):
    """``x`` on the context ``target`` (a context name, a device name, or 'cpu')."""
    return Transfer(target)(x)
