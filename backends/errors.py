"""Exceptions raised by the runtime layer."""


class DeviceError(RuntimeError):
    """A device or context could not be found, parsed or used."""


class BuildError(RuntimeError):
    """A kernel program failed to build.

    Carries everything needed to reproduce the failure: the dialect, the device, the
    compiler options, the compiler's log and the source with line numbers.
    """

    def __init__(self, dialect, device, options, log, source):
        self.dialect = dialect
        self.device = device
        self.options = list(options)
        self.log = log
        self.source = source
        numbered = "\n".join(f"{i:4d} | {line}" for i, line in enumerate(source.splitlines(), 1))
        super().__init__(
            f"{dialect} build failed on {device} with options {self.options!r}\n"
            f"--- build log ---\n{log.strip()}\n--- source ---\n{numbered}"
        )


class LaunchError(RuntimeError):
    """A kernel launch failed; the message names the kernel and its launch geometry."""
