"""The wheel ships every package of the source tree: pyproject's package list names
each directory with an __init__.py."""
import pathlib
import tomllib

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_every_package_directory_is_listed_in_pyproject():
    options = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(options["packages"])
    directories = {name: ROOT / path for name, path in options["package-dir"].items()}
    found = set()
    for name, directory in directories.items():
        for init in directory.rglob("__init__.py"):
            relative = init.parent.relative_to(directory).parts
            found.add(".".join((name, *relative)))
    assert found and found == listed, (found - listed, listed - found)
