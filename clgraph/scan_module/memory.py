"""The ``scan_keep_last`` rewrite: a scan output used only through its last step
(``result[-1]`` or ``result[-1:]``, the source documents' A**k) is kept as that step
alone, so the loop's memory does not grow with the number of steps."""
from clgraph.rewrite.db import register
from clgraph.tensor.shape_ops import get_scalar_constant_value
from clgraph.tensor.subtensor import Subtensor, get_idx_list

from .op import scan_nodes


def last_step_read(client, var):
    """"item" where ``client`` is ``var[-1]``, "slice" where it is ``var[-1:]``, else None."""
    if client == "output" or not isinstance(client.op, Subtensor) or client.inputs[0] is not var:
        return None
    key = get_idx_list(client.inputs[1:], client.op.idx_list)
    if len(key) != 1:
        return None
    if isinstance(key[0], slice):
        if key[0].stop is not None or key[0].step is not None or key[0].start is None:
            return None
        return "slice" if get_scalar_constant_value(key[0].start) == -1 else None
    return "item" if get_scalar_constant_value(key[0]) == -1 else None


@register("scan_keep_last", 36, "fast_run")
def keep_last_steps(fgraph):
    for node in scan_nodes(fgraph):
        op = node.op
        last_only = tuple(old or all(last_step_read(client, out) for client, _ in fgraph.clients(out))
                          for old, out in zip(op.last_only, node.outputs[:op.n_outputs]))
        if last_only != op.last_only:
            new = op.keeping_last(last_only).make_node(*node.inputs)
            fgraph.replace_all(list(zip(node.outputs, new.outputs)), check=False)
