"""The README documents what exists: its flags table matches clgraph.config."""
import re
from pathlib import Path

from clgraph import config

README = Path(__file__).resolve().parent.parent / "README.md"


def test_flags_table_lists_every_flag_with_its_default():
    rows = re.findall(r"^\| `([\w.]+)`(?: †)? \| `([^`]*)` \| (yes)? \|", README.read_text(), re.M)
    assert [name for name, _, _ in rows] == [flag.name for flag in config.flags()]
    for (name, default, fixed), flag in zip(rows, config.flags()):
        if name != "cache.dir":   # shown as ~/.cache/clgraph
            assert default == ("''" if flag.default == "" else str(flag.default)), name
        assert bool(fixed) == (not flag.mutable_after_init), name


def test_readme_has_the_two_setup_commands_that_ci_runs():
    text = README.read_text()
    ci = (README.parent / ".ci" / "run").read_text()
    assert '    pip install -e ".[test]" && clgraph devices' in text
    assert "    python -m pytest -q" in text
    assert 'pip install -e ".[test]" && clgraph devices' in ci and "python -m pytest -q" in ci
