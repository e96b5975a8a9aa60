"""Composite: several scalar operations fused into one, the body of a fused kernel.

``body`` is a tuple of steps ``(scalar_op, arguments, dtype)``: each argument refers to
an input (``("i", k)``) or to an earlier step (``("t", j)``), and each step's result has
``dtype`` exactly as the unfused node had. ``outputs`` are references too. The numpy
implementation replays the steps; kernels render the same steps as C statements.
"""
import numpy as np


class Composite:
    nin = property(lambda self: self._nin)
    nout = property(lambda self: len(self.outputs))

    def __init__(self, nin, body, outputs):
        self._nin = nin
        self.body = tuple((op, tuple(args), str(np.dtype(dtype))) for op, args, dtype in body)
        self.outputs = tuple(outputs)

    # the ScalarOp interface Elemwise uses ------------------------------------------
    def output_dtypes(self, dtypes):
        return [self._dtype_of(ref, dtypes) for ref in self.outputs]

    def _dtype_of(self, ref, input_dtypes):
        kind, index = ref
        return np.dtype(input_dtypes[index] if kind == "i" else self.body[index][2])

    def impl(self, *inputs):
        temps = []
        with np.errstate(all="ignore"):
            for op, args, dtype in self.body:
                values = [inputs[i] if kind == "i" else temps[i] for kind, i in args]
                temps.append(np.asarray(op.impl(*values), dtype=dtype))
        results = tuple(inputs[i] if kind == "i" else temps[i] for kind, i in self.outputs)
        return results if len(results) > 1 else results[0]

    # description ---------------------------------------------------------------------
    def expression(self, ref):
        """A readable infix expression of ``ref`` over i0, i1, ..."""
        kind, index = ref
        if kind == "i":
            return f"i{index}"
        op, args, dtype = self.body[index]
        parts = [self.expression(a) for a in args]
        if op.name == "identity":
            return f"Cast{{{dtype}}}({parts[0]})"
        if op.symbol:
            return f"({op.symbol}{parts[0]})" if len(parts) == 1 else "(" + f" {op.symbol} ".join(parts) + ")"
        return f"{op.display or op.name}({', '.join(parts)})"

    @property
    def name(self):
        return "Composite{" + ", ".join(self.expression(ref) for ref in self.outputs) + "}"

    __str__ = lambda self: self.name

    def _key(self):
        return (self._nin, tuple((op.name, args, dtype) for op, args, dtype in self.body), self.outputs)

    def __eq__(self, other):
        return isinstance(other, Composite) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())
