"""The C walk that every strided kernel family shares: a flat index split into
coordinates, each coordinate moving one or more element offsets by its strides."""


def unravel(index, ndim, length, moves, indent, outer_bounded=True):
    """C lines that consume the variable ``index``, innermost dim (``ndim - 1``) first:
    per dim d, its coordinate q times each ``stride`` is added to its ``offset`` for
    every (offset, stride) of ``moves``. ``length`` and the strides are format strings
    of ``d`` (``"kdim{d}"``). With ``outer_bounded=False`` dim 0 takes what is left of
    ``index`` without a modulo (the caller knows it is in range)."""
    lines = []
    for d in range(ndim - 1, -1, -1):
        n = length.format(d=d)
        split = (f"const ga_ssize q = {index};" if d == 0 and not outer_bounded
                 else f"const ga_ssize q = {index} % {n}; {index} /= {n};")
        adds = " ".join(f"{offset} += q * {stride.format(d=d)};" for offset, stride in moves)
        lines.append(f"{' ' * indent}{{ {split} {adds} }}")
    return "\n".join(lines)


__all__ = ["unravel"]
