"""The ``clgraph devices`` command: table, JSON, the device check, and ``python -m clgraph``."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import run_python

RUN_CLI = "import sys; from clgraph.cli import main; sys.exit(main({args!r}))"


def cli(*args, **flags):
    return run_python(RUN_CLI.format(args=list(args)), **flags)


def test_table_lists_every_device_and_the_selected_one():
    done = cli("devices")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split()[:4] == ["name", "api", "type", "vendor"]
    assert "status" in lines[0] and "fp64" in lines[0] and "max group" in lines[0]
    rows = {line.split()[0]: line for line in lines[1:] if line.strip()}
    assert "usable" in rows["cpu"]
    assert rows["opencl0:0"].split()[1:3] == ["opencl", "CPU"] and "pthread" in rows["opencl0:0"]
    assert "opencl0:1" in rows
    assert "device=auto selects opencl0:0 (pthread" in done.stdout


def test_unavailable_api_is_listed_with_its_reason():
    done = cli("devices")
    cuda_rows = [line for line in done.stdout.splitlines() if line.startswith("cuda")]
    assert cuda_rows, done.stdout
    assert "usable" in cuda_rows[0] or "cuda: unavailable -- pycuda" in cuda_rows[0]


def test_json_for_scripts():
    done = cli("devices", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    names = [d["name"] for d in report["devices"]]
    assert names[:3] == ["cpu", "opencl0:0", "opencl0:1"]
    pocl = report["devices"][1]
    for key in ("api", "kind", "vendor", "model", "compute_units", "global_mem_bytes",
                "max_group_size", "fp64", "fp16", "driver_version", "usable", "reason"):
        assert key in pocl
    assert report["selected"] == "opencl0:0"
    assert {a["api"] for a in report["apis"]} == {"cpu", "opencl", "cuda"}


def test_check_runs_a_kernel_on_every_usable_device():
    done = cli("devices", "--json", "--check")
    assert done.returncode == 0, done.stderr
    checks = {c["device"]: c for c in json.loads(done.stdout)["checks"]}
    assert set(checks) >= {"cpu", "opencl0:0", "opencl0:1"}
    assert all(c["passed"] for c in checks.values())
    assert len(checks["opencl0:0"]["launch_seconds"]) == 2 and checks["opencl0:0"]["build_seconds"] > 0


def test_selection_follows_the_device_flag():
    done = cli("devices", flags="device=opencl0:1")
    assert "device=opencl0:1 selects opencl0:1" in done.stdout
    done = cli("devices", flags="device=cpu")
    assert "device=cpu selects cpu" in done.stdout


def test_selection_error_is_shown_not_raised():
    done = cli("devices", flags="device=opencl4:0")
    assert done.returncode == 0, done.stderr
    assert "device=opencl4:0 selects error: no device 'opencl4:0'" in done.stdout


def test_module_and_console_script_entry_points():
    env = dict(os.environ, POCL_DEVICES="pthread pthread")
    done = subprocess.run([sys.executable, "-m", "clgraph", "devices"], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0 and "opencl0:0" in done.stdout, done.stderr
    script = shutil.which("clgraph", path=str(Path(sys.executable).parent)) or shutil.which("clgraph")
    assert script, "the clgraph console script is not installed"
    done = subprocess.run([script, "devices", "--json"], env=env, capture_output=True, text=True, timeout=120)
    assert json.loads(done.stdout)["selected"] == "opencl0:0"
