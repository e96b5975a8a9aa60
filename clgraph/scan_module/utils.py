"""What a step function may return: outputs, updates of shared variables and a stop
condition (``until``), and how scan tells them apart, as Theano does."""
from clgraph.graph.basic import Variable


class until:
    """A step function returns ``until(condition)`` (after its outputs and updates) to
    stop the loop after the first step where ``condition`` (a scalar) is true."""

    def __init__(self, condition):
        from clgraph.tensor.basic import as_tensor_variable

        self.condition = as_tensor_variable(condition)
        if self.condition.ndim != 0:
            raise TypeError(f"until needs a scalar condition, got {self.condition} of type "
                            f"{self.condition.type}")


def _is_outputs(value):
    if isinstance(value, (list, tuple)):
        return all(_is_output(v) for v in value)
    return _is_output(value)


def _is_output(value):
    return isinstance(value, Variable) or _is_number(value)


def _is_number(value):
    import numpy as np

    return isinstance(value, (int, float, np.number, np.ndarray)) and not isinstance(value, bool)


def _is_updates(value):
    if isinstance(value, dict):
        return True
    return isinstance(value, (list, tuple)) and len(value) > 0 and all(
        isinstance(pair, (list, tuple)) and len(pair) == 2 and isinstance(pair[0], Variable)
        for pair in value)


def _outputs(value):
    from clgraph.tensor.basic import as_tensor_variable

    values = list(value) if isinstance(value, (list, tuple)) else [value]
    return [v if isinstance(v, Variable) else as_tensor_variable(v) for v in values]


_RULES = ("the step function must return its outputs (a variable or a list of them), "
          "updates (a dict shared variable -> new value), an until(condition), or a tuple "
          "of these in the order (outputs, updates, until), any of them left out")


def split_step_result(result):
    """(outputs list, updates dict, condition or None) of what the step function returned."""
    if result is None:
        return [], {}, None
    if isinstance(result, until):
        return [], {}, result.condition
    if _is_outputs(result):
        return _outputs(result), {}, None
    if _is_updates(result):
        return [], dict(result), None
    if not isinstance(result, (list, tuple)) or len(result) not in (2, 3):
        raise ValueError(f"{_RULES}; got {result!r}")
    parts = list(result)
    outputs, updates, condition = [], {}, None
    if isinstance(parts[-1], until):
        condition = parts.pop().condition
    if parts and _is_updates(parts[-1]):
        updates = dict(parts.pop())
    if len(parts) == 1 and _is_outputs(parts[0]):
        outputs = _outputs(parts.pop())
    if parts:
        raise ValueError(f"{_RULES}; got {result!r}")
    return outputs, updates, condition
