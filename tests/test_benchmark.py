"""benchmarks/bench_layers.py: its reference formulas, its copy count and --check.

No timing is asserted here (timings belong to the machine); the targets are
forced to pass or to fail to test the exit status of --check.
"""

import importlib.util
import platform
import subprocess
import sys

import numpy as np
import pytest

import layers
from layer_cases import REPO_ROOT

spec = importlib.util.spec_from_file_location("bench_layers", REPO_ROOT / "benchmarks" / "bench_layers.py")
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)

# --default-allocator: the in-process runs below leave this test process's malloc as it is.
QUICK = ["--quick", "--repeats", "1", "--default-allocator"]


@pytest.fixture(scope="module")
def case():
    return bench.make_case(6, 5)


@pytest.mark.parametrize("name", bench.BARE_LAYERS)
def test_bare_numpy_is_the_layers_formula(name, case):
    x, g, data = case
    layer = bench.make_layer(name, x.shape[1], data)
    layer.forward(x)
    np.testing.assert_allclose(bench.bare_numpy(name, layer)(x, g), layer.backward(g), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", bench.BARE_LAYERS)
def test_the_floor_is_bare_numpy_with_a_kept_copy(name, case):
    x, g, data = case
    layer = bench.make_layer(name, x.shape[1], data)
    layer.forward(x)
    bare = bench.bare_numpy(name, layer)
    floor = bench.contract_floor(bare)
    np.testing.assert_array_equal(floor(x, g), bare(x, g))
    # The copy it keeps holds x's values in memory of its own, as prev_in does.
    np.testing.assert_array_equal(floor.kept["prev_in"], x)
    assert not np.shares_memory(floor.kept["prev_in"], x)


def test_every_layer_is_benchmarked():
    exported = {name for name in layers.__all__ if name.endswith("Layer")} - {"Layer", "ElementwiseLayer"}
    assert set(bench.LAYER_NAMES) == exported
    assert set(bench.BARE_LAYERS) <= exported
    for name in exported - set(bench.BARE_LAYERS):
        assert bench.bare_numpy(name, None) is None  # timed, without a comparison


@pytest.mark.parametrize("name", bench.LAYER_NAMES)
def test_forward_copies_its_input_once(name, case):
    x, _, data = case
    assert bench.input_copies(bench.make_layer(name, x.shape[1], data), x) == bench.COPY_TARGET == 1


def test_the_copy_count_sees_a_second_copy(case):
    # A layer that keeps a copy of x as prev_out too (as LinearLayer once did) counts 2.
    class CopyingLinear(layers.LinearLayer):
        _keeps_output = True

    x, _, _ = case
    assert bench.input_copies(CopyingLinear(), x) == 2


def test_a_real_run_with_targets_nothing_can_miss_passes_check():
    # A quick run of every part in a process of its own: mallopt changes the allocator of the
    # whole process, and the benchmark's gc.collect() calls would be slow in pytest's.
    loosen = "; ".join(f"bench.{target} = 1e9" for target in
                       ("BARE_TARGET", "COPY_TARGET", "PEAK_TARGET", "TORCH_TARGET"))
    script = (f"import sys; sys.path.insert(0, 'benchmarks'); import bench_layers as bench; {loosen}; "
              "sys.exit(bench.main(['--quick', '--repeats', '1', '--check']))")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO_ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "--check:" not in out
    for column in ("layer/bare", "floor/bare", "copies", "bwd peak"):
        assert column in out
    header = dict(line.strip().split(None, 1) for line in out.splitlines()[1:12] if line.strip())
    on_glibc = platform.libc_ver()[0] == "glibc"
    assert header["allocator"].startswith("freed memory kept" if on_glibc else "the default"), header


@pytest.fixture
def canned_parts(monkeypatch):
    """The three parts replaced by canned results: (bare, copies, peak) per layer, torch."""
    results = {}

    def canned(name):
        return lambda *args: results[name]

    for part in ("bench_layers", "bench_jacobian_route", "bench_torch"):
        monkeypatch.setattr(bench, part, canned(part))
    monkeypatch.setattr(bench, "print_header", lambda *args: None)
    results["bench_jacobian_route"] = None
    return results


@pytest.mark.parametrize("missed", ["bare", "copies", "peak", "torch"])
def test_check_fails_when_a_target_is_missed(canned_parts, missed, capsys):
    met = {"bare": [True, True], "copies": [True, True], "peak": [True, True]}
    torch_met = [True, True]
    if missed == "torch":
        torch_met = [True, False]
    else:
        met[missed] = [False, True]
    canned_parts["bench_layers"], canned_parts["bench_torch"] = met, torch_met
    assert bench.main(QUICK + ["--check"]) == 1
    assert "--check: 1 target(s) failed" in capsys.readouterr().out
    # Without --check the same results are reported and the exit status is 0.
    assert bench.main(QUICK) == 0


def test_check_without_torch_judges_the_other_targets(canned_parts, capsys):
    canned_parts["bench_layers"] = {"bare": [True], "copies": [True], "peak": [True]}
    canned_parts["bench_torch"] = None
    assert bench.main(QUICK + ["--check"]) == 0
    assert "not measured (torch not importable)" in capsys.readouterr().out
