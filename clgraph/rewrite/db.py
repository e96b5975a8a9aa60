"""The rewrite database: named passes with tags, run in a fixed order.

A pass is a function ``fgraph -> None`` that rewrites in place. Passes of the ``graph``
stage rewrite the symbolic graph; those of the ``device`` stage run after placement, on
the graph of device ops. The optimizer name
chooses the tags (``fast_run``: every pass tagged fast_run; ``fast_compile``: those tagged
fast_compile; ``merge``: merge alone; ``None``: nothing); ``optimizer_including`` and
``optimizer_excluding`` (colon-separated tags or pass names) add and remove passes.
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class Rewrite:
    name: str
    function: object
    tags: frozenset
    position: float       # passes run in increasing position
    stage: str = "graph"  # "graph" (before placement) or "device" (after it)


REWRITES = {}


def register(name, position, *tags, stage="graph"):
    """Decorator adding a pass to the database."""
    def add(function):
        REWRITES[name] = Rewrite(name, function, frozenset(tags) | {name}, position, stage)
        return function
    return add


def selected(optimizer, including="", excluding="", stage="graph"):
    """The passes for an optimizer name and the including/excluding flags, in order."""
    wanted = {"fast_run": {"fast_run"}, "fast_compile": {"fast_compile"}, "merge": {"merge"},
              "None": set(), None: set()}[optimizer]
    wanted |= {t for t in including.split(":") if t}
    unwanted = {t for t in excluding.split(":") if t}
    known_tags = {t for r in REWRITES.values() for t in r.tags}
    for tag in (wanted | unwanted) - known_tags - {"fast_run", "fast_compile", "merge"}:
        raise ValueError(f"unknown rewrite tag or name {tag!r} in optimizer_including/excluding; "
                         f"known: {', '.join(sorted(known_tags))}")
    chosen = [r for r in REWRITES.values()
              if r.stage == stage and r.tags & wanted and not r.tags & unwanted]
    return sorted(chosen, key=lambda r: r.position)


def rewrite_graph(fgraph, optimizer, including="", excluding="", stage="graph"):
    for rewrite in selected(optimizer, including, excluding, stage):
        rewrite.function(fgraph)
