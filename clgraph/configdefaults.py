"""clgraph's flags, and ``config``, the object that holds their values.

The table below is the one description of the flags: ``print(config)`` and the
documentation are both generated from ``config.flags()``.
"""
import os

from .configparser import (
    BoolParam, Config, ContextsParam, DeviceParam, EnumParam, Flag, FloatParam, IntParam,
    PathParam, StrParam, home_dir,
)

# Other names accepted for a flag; Theano's name for the pool size is still the one
# that existing rc files and documents use.
ALIASES = {"gpuarray.preallocate": "allocator.preallocate"}


def flag_definitions(environ):
    """The flags, in the order they are documented; ``environ`` supplies the cache default."""
    cache_home = environ.get("XDG_CACHE_HOME") or os.path.join(home_dir(environ), ".cache")
    return [
        Flag("device", DeviceParam(), "auto",
             "Device a graph runs on when it names none; auto is the first usable OpenCL "
             "device, or cpu with a warning when there is none.",
             mutable_after_init=False),
        Flag("floatX", EnumParam("float64", "float32", "float16"), "float64",
             "Dtype of floating-point variables and constants created without one."),
        Flag("warn_float64", EnumParam("ignore", "warn", "raise"), "ignore",
             "What to do when a float64 variable is created."),
        Flag("contexts", ContextsParam(), "",
             "Named device contexts a graph can place its variables on, "
             "e.g. dev0->cuda0;dev1->opencl0:0.",
             mutable_after_init=False),
        Flag("allocator.preallocate", FloatParam(), 0.0,
             "Memory pool of each context: < 0 no pool, 0 a pool without preallocation, "
             "(0, 1] that fraction of device memory preallocated, > 1 that many megabytes.",
             mutable_after_init=False),
        Flag("allocator.max_bytes", IntParam(minimum=0), 0,
             "Most bytes the pool of one context may hold (0: no cap); a small cap "
             "reaches out-of-memory on purpose."),
        Flag("allow_gc", BoolParam(), True,
             "Free intermediate results as soon as no later step needs them."),
        Flag("sync_launch", BoolParam(), False,
             "Wait for every kernel launch to finish, so that an error names the launch "
             "that caused it (as CUDA_LAUNCH_BLOCKING does)."),
        Flag("cache.dir", PathParam(), os.path.join(cache_home, "clgraph"),
             "Directory of the compiled-kernel cache."),
        Flag("cache.enabled", BoolParam(), True,
             "Reuse compiled kernels from cache.dir and store new ones there."),
        Flag("mode", EnumParam("Mode", "FAST_RUN", "FAST_COMPILE", "DebugMode", "DEBUG_MODE",
                               "NanGuardMode"), "Mode",
             "Default compilation mode of functions."),
        Flag("linker", EnumParam("vm", "vm_nogc", "py"), "vm",
             "Default linker: how a compiled function runs its steps."),
        Flag("optimizer", EnumParam("fast_run", "fast_compile", "merge", "None"), "fast_run",
             "Default set of graph rewrites; None applies none."),
        Flag("optimizer_including", StrParam(), "",
             "Colon-separated rewrite tags to add to the optimizer's."),
        Flag("optimizer_excluding", StrParam(), "",
             "Colon-separated rewrite tags to remove from the optimizer's."),
        Flag("on_unused_input", EnumParam("raise", "warn", "ignore"), "raise",
             "What to do when a function is given an input its outputs do not use."),
        Flag("profile", BoolParam(), False,
             "Time every step of compiled functions and print a summary at exit."),
        Flag("profile_memory", BoolParam(), False,
             "Add the memory each step allocates to the profile."),
        Flag("profile_optimizer", BoolParam(), False,
             "Add the time each graph rewrite takes to the profile."),
        Flag("compute_test_value", EnumParam("off", "ignore", "warn", "raise", "pdb"), "off",
             "Compute test values while building a graph, and what to do when one is missing."),
        Flag("exception_verbosity", EnumParam("low", "high"), "low",
             "How much of the graph an error raised at run time describes."),
        Flag("print_active_device", BoolParam(), True,
             "Print the device in use when the first context is created.",
             mutable_after_init=False),
    ]


def make_config(environ=None):
    """A Config holding the defaults, then the rc files, then CLGRAPH_FLAGS, all read
    from ``environ`` (os.environ when None)."""
    environ = os.environ if environ is None else environ
    config = Config(flag_definitions(environ), ALIASES)
    config.load_sources(environ)
    return config


config = make_config()
