"""Op: an operation on variables; applied to inputs it makes an Apply node."""


class Op:
    """Subclasses define ``make_node`` and ``perform``; ``__props__`` names the attributes
    that make two instances equal (so merge can share their nodes)."""

    __props__ = ()

    def make_node(self, *inputs):
        raise NotImplementedError(f"{type(self).__name__} does not define make_node")

    def perform(self, node, inputs):
        """The outputs (a list of numpy arrays) for numpy ``inputs``: the reference."""
        raise NotImplementedError(f"{type(self).__name__} does not define perform")

    def infer_shape(self, node, input_shapes):
        """Symbolic shapes of the outputs given those of the inputs (lists of scalars)."""
        raise NotImplementedError(f"{self} does not infer shapes")

    def __call__(self, *inputs, **kwargs):
        node = self.make_node(*inputs, **kwargs)
        return node.outputs[0] if len(node.outputs) == 1 else node.outputs

    def _props(self):
        return tuple(getattr(self, name) for name in self.__props__)

    def __eq__(self, other):
        return type(self) is type(other) and self._props() == other._props()

    def __hash__(self):
        return hash((type(self), self._props()))

    def __str__(self):
        props = self._props()
        if not props:
            return type(self).__name__
        return f"{type(self).__name__}{{{', '.join(map(str, props))}}}"

    @property
    def name(self):
        return str(self)


class InnerGraphOp(Op):
    """An op holding graphs of its own (a loop's step, a conditional's branches): equal
    only to itself, so merge never joins two of them whose graphs merely look alike."""

    def __eq__(self, other):
        return self is other

    def __hash__(self):
        return id(self)
