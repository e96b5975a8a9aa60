"""The programs of examples/ run to the end and reach what they promise: the source
documents' logistic regression (10000 steps) ends with the same predictions on the
device and on the host reference, and the perceptron learns its synthetic classes."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import OPENCL_DEVICES

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
pytestmark = pytest.mark.skipif(not OPENCL_DEVICES, reason="needs an OpenCL device")


def run_example(name, *args):
    env = dict(os.environ, CLGRAPH_FLAGS=os.environ["CLGRAPH_FLAGS"] + f",device={OPENCL_DEVICES[0]}")
    result = subprocess.run([sys.executable, str(EXAMPLES / name), *args], env=env, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_seed_logistic_regression_ends_with_the_same_predictions_on_device_and_host():
    out = run_example("logistic_regression.py", "--steps", "10000")
    assert "Used the gpu" in out   # the seed's check: the training graph holds a GpuGemv
    assert "final predictions of the device and the reference agree: True" in out
    accuracies = [float(line.split("training accuracy ")[1].split(",")[0]) for line in out.splitlines()
                  if "training accuracy" in line]
    assert len(accuracies) == 2 and min(accuracies) > 0.99


def test_two_layer_perceptron_learns_its_classes():
    out = run_example("mlp.py", "--steps", "200")
    held_out = float(out.split("held out ")[1].split()[0])
    assert held_out > 0.9
    assert "GpuCrossentropySoftmax1Hot" in out and "GpuGemm{inplace}" in out
