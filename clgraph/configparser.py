"""The configuration machinery: typed flags, the Config object and the sources it reads.

A flag's value comes from, later winning: its default, the rc files, the
CLGRAPH_FLAGS environment variable, and assignment in code. Config remembers which
of these gave each value, so that every error and ``print(config)`` can say so.
"""
import configparser
import difflib
import functools
import math
import os
import re
import textwrap
from dataclasses import dataclass

RC_ENV = "CLGRAPHRC"
FLAGS_ENV = "CLGRAPH_FLAGS"
CODE = "code"
DEFAULT = "default"


class ConfigError(ValueError):
    """A flag name, a value or a source that clgraph cannot accept."""


class UnknownFlagError(ConfigError, AttributeError):
    """A flag name that is not defined; also an AttributeError, so that
    ``config.no_such_flag`` and ``hasattr`` behave as for any attribute."""


# Each flag type converts a value given in code or as text, raising ValueError (with
# a reason or an empty message) when it cannot; Config turns that into a ConfigError
# that names the flag and the source.

class StrParam:
    type_name = "str"
    allowed = "any string"

    def convert(self, value):
        if not isinstance(value, str):
            raise ValueError("expected a string")
        return value


class EnumParam(StrParam):
    type_name = "enum"

    def __init__(self, *choices):
        self.choices = choices
        self.allowed = ", ".join(choices)

    def convert(self, value):
        if value not in self.choices:
            raise ValueError
        return value


class BoolParam:
    type_name = "bool"
    allowed = "true/false, yes/no, on/off, 1/0 (any case)"
    _WORDS = {"true": True, "yes": True, "on": True, "1": True,
              "false": False, "no": False, "off": False, "0": False}

    def convert(self, value):
        if isinstance(value, str) and value.strip().lower() in self._WORDS:
            return self._WORDS[value.strip().lower()]
        if isinstance(value, int) and value in (0, 1):  # True and False are ints too
            return bool(value)
        raise ValueError


class IntParam:
    type_name = "int"

    def __init__(self, minimum=None):
        self.minimum = minimum
        self.allowed = "integers" if minimum is None else f"integers >= {minimum}"

    def convert(self, value):
        if isinstance(value, str) and re.fullmatch(r"[-+]?\d+", value.strip()):
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError
        if self.minimum is not None and value < self.minimum:
            raise ValueError(f"must be >= {self.minimum}")
        return value


class FloatParam:
    type_name = "float"
    allowed = "finite numbers"

    def convert(self, value):
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                raise ValueError from None
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise ValueError
        if not math.isfinite(value):
            raise ValueError("must be finite")
        return float(value)


class PathParam:
    type_name = "path"
    allowed = "a path (~ and $VARIABLES are expanded)"

    def convert(self, value):
        if not isinstance(value, (str, os.PathLike)):
            raise ValueError("expected a path")
        return os.path.expanduser(os.path.expandvars(os.fspath(value)))


# Syntax only: whether such a device exists is the runtime's question.
_DEVICE = re.compile(r"cpu|opencl(?:\d+:\d+)?|(?:cuda|gpu)\d*")
_CONTEXT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _canonical_device(text):
    """``text`` with Theano's gpu spelling turned into cuda, or None if it is not a
    device name ("auto" excluded)."""
    if not _DEVICE.fullmatch(text):
        return None
    return "cuda" + text[3:] if text.startswith("gpu") else text


class DeviceParam(StrParam):
    type_name = "device"
    allowed = ("auto, cpu, opencl, openclP:D, cuda, cudaN, gpu, gpuN "
               "(P, D, N non-negative integers; gpu means cuda)")

    def convert(self, value):
        value = super().convert(value)
        device = "auto" if value == "auto" else _canonical_device(value)
        if device is None:
            raise ValueError
        return device


class ContextsParam(StrParam):
    type_name = "contexts"
    allowed = ("'' or name->device items separated by ';' (name: a letter or _ then "
               "letters, digits, _; device: as for flag device, except auto)")

    def convert(self, value):
        value = super().convert(value)
        return ";".join(self._convert_item(item) for item in value.split(";")) if value else ""

    @staticmethod
    def _convert_item(item):
        name, _, device = (part.strip() for part in item.partition("->"))
        canonical = _canonical_device(device)  # None also when "->" is missing: device is ""
        if not _CONTEXT_NAME.fullmatch(name) or canonical is None:
            raise ValueError(f"item {item!r} is not name->device")
        return f"{name}->{canonical}"


@dataclass(frozen=True)
class Flag:
    name: str
    param: object
    default: object
    doc: str
    mutable_after_init: bool = True  # False: fixed once the first device context exists

    @property
    def type(self):
        return self.param.type_name

    @property
    def allowed(self):
        return self.param.allowed


def home_dir(environ):
    return environ.get("HOME") or os.path.expanduser("~")


def rc_paths(environ):
    """The rc files to read, later ones winning: those CLGRAPHRC names, else
    ~/.clgraphrc when it exists."""
    if RC_ENV not in environ:
        default = os.path.join(home_dir(environ), ".clgraphrc")
        return [default] if os.path.isfile(default) else []
    paths = [path for path in environ[RC_ENV].split(os.pathsep) if path]
    for path in paths:
        if not os.path.isfile(path):
            raise ConfigError(f"rc file {path} named in {RC_ENV} does not exist")
    return paths


class Config:
    """The values of a set of flags, each with the source it came from.

    Plain flags are attributes (``config.floatX``); a dotted flag is an attribute of
    its section (``config.allocator.preallocate``); ``get``/``set`` take any name.
    """

    def __init__(self, flags, aliases=None):
        self._flags = {flag.name: flag for flag in flags}
        self._aliases = dict(aliases or {})
        names = [*self._flags, *self._aliases]
        self._sections = {name.split(".")[0] for name in names if "." in name}
        # A flag called like a method would be unreachable as an attribute.
        top_names = {name.split(".")[0] for name in names}
        shadowed = sorted(name for name in top_names if hasattr(Config, name))
        if shadowed:
            raise ConfigError(f"flag names shadow Config attributes: {', '.join(shadowed)}")
        self._values = {}
        self._sources = {}
        self._device_flags_locked = False
        for flag in self._flags.values():
            self._store(flag, self._convert(flag, flag.default, DEFAULT), DEFAULT)

    # -- access ---------------------------------------------------------------------

    def get(self, name):
        return self._values[self._resolve(name, CODE).name]

    def set(self, name, value):
        self._assign(name, value, CODE)

    def source_of(self, name):
        """Where the value came from: "default", "rc file <path>", "CLGRAPH_FLAGS" or "code"."""
        return self._sources[self._resolve(name, CODE).name]

    def flags(self):
        return list(self._flags.values())

    def change_flags(self, changes=None, /, **kwargs):
        """Set flags for a ``with`` block or a decorated function, then restore them.

        Keywords take plain names; a dict gives dotted ones.
        """
        return _FlagChanges(self, {**(changes or {}), **kwargs})

    def __getattr__(self, name):
        if name.startswith("_"):  # internals not set yet (during __init__, copy, pickle)
            raise AttributeError(name)
        if name in self._sections:
            return _Section(self, name)
        return self.get(name)

    def __setattr__(self, name, value):
        if name.startswith("_"):
            object.__setattr__(self, name, value)
        else:
            self.set(name, value)

    def __str__(self):
        return "\n\n".join(self._describe(flag) for flag in self._flags.values())

    def _describe(self, flag):
        value = self._values[flag.name]
        shown = repr(value) if value == "" else value
        notes = [flag.doc, f"allowed: {flag.allowed}"]
        if not flag.mutable_after_init:
            notes.append("fixed once a device is in use")
        wrapped = [textwrap.fill(note, 88, initial_indent="    ", subsequent_indent="      ")
                   for note in notes]
        return "\n".join([f"{flag.name} = {shown}    ({self._sources[flag.name]})", *wrapped])

    # -- the device lock ------------------------------------------------------------

    def lock_device_flags(self):
        """Called when the first device context is created: from then on the flags
        that chose it can no longer change."""
        self._device_flags_locked = True

    @property
    def device_flags_locked(self):
        return self._device_flags_locked

    # -- sources --------------------------------------------------------------------

    def load_sources(self, environ):
        """Read the rc files, then CLGRAPH_FLAGS, from the ``environ`` mapping."""
        for path in rc_paths(environ):
            self.read_rc_file(path)
        self.read_flags_string(environ.get(FLAGS_ENV, ""), FLAGS_ENV)

    def read_rc_file(self, path):
        """An INI file: key K of section [global] is flag K, of section [S] flag S.K."""
        source = f"rc file {path}"
        parser = configparser.ConfigParser(interpolation=None)  # '%' may occur in paths
        parser.optionxform = str  # flag names are case-sensitive (floatX)
        try:
            with open(path, encoding="utf-8") as file:
                parser.read_file(file)
        except (OSError, configparser.Error) as err:
            raise ConfigError(f"cannot read {source}: {err}") from None
        for section in parser.sections():
            for key, value in parser.items(section):
                self._assign(key if section == "global" else f"{section}.{key}", value, source)

    def read_flags_string(self, text, source=FLAGS_ENV):
        """``name=value`` items separated by commas; blank items are skipped."""
        for item in (item.strip() for item in text.split(",")):
            if not item:
                continue
            name, equals, value = item.partition("=")
            if not equals:
                raise ConfigError(f"item {item!r} in {source} has no '=': expected name=value")
            self._assign(name.strip(), value.strip(), source)

    # -- the single path every change takes -----------------------------------------

    def _resolve(self, name, source):
        name = self._aliases.get(name, name)
        if name in self._flags:
            return self._flags[name]
        # Only real names are suggested, never aliases. difflib catches typos; the
        # suffix match catches a dotted flag given without its section.
        guesses = (difflib.get_close_matches(name, self._flags)
                   or [other for other in self._flags if other.endswith("." + name)])
        hint = f"; did you mean {' or '.join(map(repr, guesses))}?" if guesses else "."
        raise UnknownFlagError(f"unknown clgraph flag {name!r} (from {source}){hint} "
                               f"Known flags: {', '.join(self._flags)}")

    def _convert(self, flag, value, source):
        try:
            return flag.param.convert(value)
        except ValueError as err:
            reason = f"{err}; " if str(err) else ""
            raise ConfigError(f"bad value {value!r} for flag {flag.name} (from {source}): "
                              f"{reason}allowed values are {flag.allowed}") from None

    def _checked(self, name, value, source):
        """The flag and the converted value, after checking everything about the change."""
        flag = self._resolve(name, source)
        value = self._convert(flag, value, source)
        current = self._values[flag.name]
        if self._device_flags_locked and not flag.mutable_after_init and value != current:
            raise ConfigError(
                f"flag {flag.name} cannot change after a device is in use (it is {current!r}, "
                f"asked {value!r} from {source}); set it before the first device is used, "
                f"in {FLAGS_ENV} or the rc file")
        return flag, value

    def _store(self, flag, value, source):
        self._values[flag.name] = value
        self._sources[flag.name] = source

    def _assign(self, name, value, source):
        flag, value = self._checked(name, value, source)
        self._store(flag, value, source)


class _Section:
    """``config.allocator``: attribute access to the flags named ``allocator.*``."""

    def __init__(self, config, name):
        object.__setattr__(self, "_config", config)
        object.__setattr__(self, "_name", name)

    def __getattr__(self, key):
        return self._config.get(f"{self._name}.{key}")

    def __setattr__(self, key, value):
        self._config.set(f"{self._name}.{key}", value)


class _FlagChanges:
    """What ``Config.change_flags`` returns: a context manager and a decorator."""

    def __init__(self, config, changes):
        self._config = config
        self._changes = changes
        self._saved = []

    def __enter__(self):
        config = self._config
        # Check every change before making any, so a bad value changes nothing.
        checked = [config._checked(name, value, CODE) for name, value in self._changes.items()]
        self._saved = [(flag, config._values[flag.name], config._sources[flag.name])
                       for flag, _ in checked]
        for flag, value in checked:
            config._store(flag, value, CODE)
        return config

    def __exit__(self, *exc_info):
        for flag, value, source in self._saved:
            self._config._store(flag, value, source)
        return False

    def __call__(self, function):
        @functools.wraps(function)
        def with_flags(*args, **kwargs):
            # A fresh instance per call keeps recursive and concurrent calls apart.
            with _FlagChanges(self._config, self._changes):
                return function(*args, **kwargs)
        return with_flags
