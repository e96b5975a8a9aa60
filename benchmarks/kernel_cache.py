"""Cold vs warm kernel builds: the same program built by two fresh processes.

The first process compiles (empty clgraph cache, PoCL's own cache off); the second finds
the binary in clgraph's disk cache. Run: python benchmarks/kernel_cache.py
"""
import json
import os
import subprocess
import sys
import tempfile

BUILD = """
import json, time
from clgraph.backends import get_context
from clgraph.backends.program import kernel_template
context = get_context()
start = time.perf_counter()
program = context.build(kernel_template("cluda_check.c"))
program.kernel("cluda_saxpy")
print(json.dumps(dict(context.programs.counts, seconds=time.perf_counter() - start,
                      device=context.info.describe())))
"""


def build_once(cache_dir):
    env = dict(os.environ, POCL_KERNEL_CACHE="0",
               CLGRAPH_FLAGS=f"print_active_device=False,cache.dir={cache_dir}")
    done = subprocess.run([sys.executable, "-c", BUILD], env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def main():
    with tempfile.TemporaryDirectory() as cache_dir:
        cold, warm = build_once(cache_dir), build_once(cache_dir)
    assert cold["built"] == 1 and warm["disk"] == 1, (cold, warm)
    print(f"kernel build of cluda_check.c on {cold['device']}")
    print("| build | seconds | ratio to warm |")
    print("|---|---|---|")
    print(f"| cold (compiled) | {cold['seconds']:.3f} | {cold['seconds'] / warm['seconds']:.0f}x |")
    print(f"| warm (clgraph disk cache, new process) | {warm['seconds']:.4f} | 1x |")


if __name__ == "__main__":
    main()
