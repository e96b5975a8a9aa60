"""Modes: which rewrites a function gets and how it runs.

``Mode`` (the default) takes its optimizer from ``config.optimizer``; ``FAST_RUN`` is
every rewrite; ``FAST_COMPILE`` only the cheap ones and the reference linker.
"""
from clgraph.configdefaults import config

_PRESETS = {  # mode name -> (optimizer, linker)
    "FAST_RUN": ("fast_run", "vm"),
    "FAST_COMPILE": ("fast_compile", "py"),
}
_ALIASES = {"DEBUG_MODE": "DebugMode"}


class Mode:
    def __init__(self, optimizer=None, linker=None, name="Mode"):
        self.optimizer = config.optimizer if optimizer is None else optimizer
        self.linker = config.linker if linker is None else linker
        self.name = name

    def optimize(self, fgraph, stage="graph"):
        """Rewrite ``fgraph`` in place with this mode's passes of ``stage`` ('graph', or
        'device' for the graph of device ops after placement)."""
        from clgraph.rewrite import rewrite_graph

        rewrite_graph(fgraph, self.optimizer, config.optimizer_including, config.optimizer_excluding,
                      stage)

    def __repr__(self):
        return f"Mode(optimizer={self.optimizer!r}, linker={self.linker!r})"


def get_mode(mode):
    """A Mode from None (config.mode), a name, or a Mode."""
    if isinstance(mode, Mode):
        return mode
    name = _ALIASES.get(mode or config.mode, mode or config.mode)
    if name == "Mode":
        return Mode()
    if name in _PRESETS:
        optimizer, linker = _PRESETS[name]
        return Mode(optimizer, linker, name)
    known = ", ".join(["Mode", *_PRESETS])
    raise ValueError(f"unknown mode {mode!r}: use one of {known} or a Mode instance")
