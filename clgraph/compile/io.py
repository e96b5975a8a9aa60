"""In, Param and Out: how a compiled function treats each input and output."""
from clgraph.graph.basic import Variable


class In:
    """A function input: ``variable``, its keyword ``name``, a default ``value``.

    ``borrow`` and ``mutable`` are accepted as in Theano (permissions to keep or overwrite
    the caller's array); clgraph never needs them: it never overwrites an argument's
    array (only a shared variable's storage, by that variable's own update).
    """

    def __init__(self, variable, name=None, value=None, mutable=False, borrow=False,
                 strict=False, allow_downcast=None):
        if not isinstance(variable, Variable):
            raise TypeError(f"In expects a symbolic variable, got {type(variable).__name__} {variable!r}")
        self.variable = variable
        self.name = variable.name if name is None else name
        self.value = value
        self.mutable = mutable
        self.borrow = borrow or mutable
        self.strict = strict
        self.allow_downcast = allow_downcast

    @property
    def has_default(self):
        return self.value is not None

    def __repr__(self):
        return f"In({self.variable}, name={self.name!r})"


class Param(In):
    """Theano's older spelling of In, with ``default`` for the default value."""

    def __init__(self, variable, default=None, name=None, mutable=False, strict=False,
                 allow_downcast=None, borrow=False):
        super().__init__(variable, name=name, value=default, mutable=mutable, borrow=borrow,
                         strict=strict, allow_downcast=allow_downcast)


class Out:
    """A function output; ``borrow=True`` may return the function's own buffer, which
    the next call overwrites."""

    def __init__(self, variable, borrow=False):
        if not isinstance(variable, Variable):
            raise TypeError(f"Out expects a symbolic variable, got {type(variable).__name__} {variable!r}")
        self.variable = variable
        self.borrow = borrow

    def __repr__(self):
        return f"Out({self.variable}, borrow={self.borrow})"
