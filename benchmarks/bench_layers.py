"""Time and memory of every layer's forward and backward pass.

    python benchmarks/bench_layers.py            # the full run (about a minute)
    python benchmarks/bench_layers.py --quick    # small sizes, a smoke run
    python benchmarks/bench_layers.py --check    # exit 1 when a target fails

Prints three tables:

1. forward and backward time of each layer at N = 256 rows, K = 2048
   columns, beside "bare numpy": the same formula written as plain numpy
   without validation (forward + backward, e.g. 1 / (1 + exp(-x)) and
   g * s * (1 - s) for the sigmoid). Targets: every layer's forward +
   backward within 1.25x of bare numpy; at most one copy of the input per
   forward (copies of x the layer keeps or returns, the identity's own
   output not counted); backward's peak memory < 6 N K 8 bytes, i.e. at
   most six (N, K) float64 arrays. Beside them the "floor": bare numpy plus
   the work every layer's contract asks for and bare numpy skips (x copied
   and kept as prev_in, x and g each read once by the finite check), the
   least a layer that keeps its promises can cost;
2. backward against the route through the materialised Jacobian,
   einsum('ni,nij->nj', g, layer.gradient()), at a size where the
   (N, K, K) Jacobian still fits (N = 128, K = 256);
3. the ratio to PyTorch autograd on one thread, when torch is importable,
   with the target "no layer beyond 3x PyTorch".

Times are medians over --repeats runs after one warm-up run. The two sides
of a comparison run in alternating blocks of five calls, so that a change in
the machine's load hits them alike and each settles into the memory pattern
of a training loop (see times_ms). glibc's malloc is asked to keep freed
memory for reuse (see keep_freed_memory; --default-allocator measures
without that). numpy's BLAS (used only by the fully connected layer) runs on one
thread by default, like everything else here: on a busy machine a second
BLAS thread that waits for a free core can make a matrix product many times
slower, which would measure the machine rather than the layer. Limiting it
needs threadpoolctl (pinned in requirements.txt); without it the library's
default applies and the header says so.
"""

import argparse
import contextlib
import ctypes
import ctypes.util
import gc
import os
import platform
import statistics
import sys
import time
import tracemalloc

import numpy as np

import layers

try:
    import threadpoolctl
except ImportError:  # optional: reports and limits the BLAS threads
    threadpoolctl = None

try:
    import torch
except ImportError:  # optional: only for the comparison in part 3
    torch = None

MIB = 2**20
PEAK_TARGET = 6          # backward peak < PEAK_TARGET * N * K * 8 bytes
BARE_TARGET = 1.25       # forward + backward within 1.25x of bare numpy
COPY_TARGET = 1          # copies of the input per forward
TORCH_TARGET = 3.0       # forward + backward within 3x of PyTorch, every layer
TORCH_INSTALL = "pip install torch==2.13.0"

# Every concrete layer layers.py exports, in its own order (the base classes are not layers to time).
LAYER_NAMES = [
    name for name in layers.__all__
    if name.endswith("Layer") and name not in ("Layer", "ElementwiseLayer")
]


# --------------------------------------------------------------------------
# Inputs and layers
# --------------------------------------------------------------------------

def make_case(n, k, seed=0):
    """Seeded inputs x, upstream gradients g and training data for InputLayer."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, k))
    g = rng.standard_normal((n, k))
    data = 3.0 + 2.0 * rng.standard_normal((n, k))
    return x, g, data


def make_layer(name, k, data):
    if name == "InputLayer":
        return layers.InputLayer(data)
    if name == "FullyConnectedLayer":
        return layers.FullyConnectedLayer(k, k, rng=np.random.default_rng(1))
    return getattr(layers, name)()


#: The layers with a bare-numpy formula below: the homework's seven.
BARE_LAYERS = ["InputLayer", "FullyConnectedLayer", "LinearLayer", "ReLULayer",
               "LogisticSigmoidLayer", "TanhLayer", "SoftmaxLayer"]


def bare_numpy(name, layer):
    """The layer's formula as plain numpy, no validation: a function of (x, g).

    It runs forward then backward, as a training step does, and returns
    dL/dx. eps is the layer's own (1e-7 by default); the statistics and
    weights are the layer's, read once here. None for a layer without a
    formula here (it is timed, without the comparison).
    """
    if name == "InputLayer":
        mean, std = layer.mean_x, layer.std_x
        return lambda x, g: ((x - mean) / std, g / std)[1]
    if name == "FullyConnectedLayer":
        weights, biases = np.array(layer.weights), np.array(layer.biases)
        return lambda x, g: (x @ weights + biases, g @ weights.T)[1]
    if name == "LinearLayer":
        # The identity: new arrays, as every layer returns.
        return lambda x, g: (x.copy(), g.copy())[1]
    if name == "ReLULayer":
        return lambda x, g: (np.maximum(x, 0.0), g * (x >= 0))[1]
    if name == "LogisticSigmoidLayer":
        eps = layer.eps

        def sigmoid(x, g):
            s = 1.0 / (1.0 + np.exp(-x))
            return g * (s * (1.0 - s) + eps)
        return sigmoid
    if name == "TanhLayer":
        eps = layer.eps

        def tanh(x, g):
            t = np.tanh(x)
            return g * (1.0 - t**2 + eps)
        return tanh
    if name == "SoftmaxLayer":
        def softmax(x, g):
            e = np.exp(x - x.max(axis=1, keepdims=True))
            s = e / e.sum(axis=1, keepdims=True)
            return s * (g - (g * s).sum(axis=1, keepdims=True))
        return softmax
    return None


def contract_floor(bare):
    """Bare numpy plus what a layer's contract adds to it: a function of (x, g).

    Every layer copies x and keeps the copy as prev_in (so that a later edit
    of x cannot change the derivative), and reads x and g once each to refuse
    NaN and infinity (a sum is finite only if every entry is). A validated
    layer cannot cost less than this; the overhead of its Python calls comes
    on top.
    """
    kept = {}

    def floor(x, g):
        kept["prev_in"] = x.copy()
        np.isfinite(kept["prev_in"].sum())
        np.isfinite(g.sum())
        return bare(x, g)
    floor.kept = kept
    return floor


def input_copies(layer, x):
    """Copies of x that one forward(x) leaves behind, its identity output not counted.

    Counted: the distinct arrays among the stored prev_in and prev_out (as
    stored, not recomputed) and the returned output whose values are x's.
    The identity's output is x's values by definition, so it is not a copy
    of the input in this sense.
    """
    out = layer.forward(x)
    stored = [layer.prev_in, getattr(layer, "_prev_out", None)]
    distinct = []
    for array in [a for a in stored if a is not None] + [out]:
        if array.shape == x.shape and np.array_equal(array, x) and not any(
                np.shares_memory(array, seen) for seen in distinct):
            distinct.append(array)
    identity_output = out.shape == x.shape and np.array_equal(out, x)
    return len(distinct) - int(identity_output)


def jacobian_route(layer, g):
    """dL/dx through the Jacobian itself (the fully connected one is a single matrix).

    None for a layer whose rows interact (its Jacobian is not one matrix per
    row, e.g. batch normalisation): there is no per-row route to compare.
    """
    jacobian = layer.gradient()
    if jacobian.ndim == 2:
        return np.einsum("ni,ij->nj", g, jacobian)
    if jacobian.shape != (g.shape[0], g.shape[1], layer.prev_in.shape[1]):
        return None
    return np.einsum("ni,nij->nj", g, jacobian)


# --------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------

def times_ms(steps, repeats, block=1):
    """Wall times in ms of each function in `steps`: one list of `repeats` per step.

    One warm-up round first. Each step runs `block` times in a row before the
    next step's turn, the turns alternating until every step has run
    `repeats` times, so a change in the machine's load hits all of them
    alike. With block > 1 a step repeated on its own settles into the memory
    pattern it has in a training loop, which single alternating calls would
    disturb (numpy's large arrays come from the allocator afresh, and the page
    faults depend on what ran just before). The garbage collector is off
    while timing, as in timeit.
    """
    for step in steps:
        step()
    times = [[] for _ in steps]
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        while len(times[0]) < repeats:
            for step, bucket in zip(steps, times):
                for _ in range(min(block, repeats - len(bucket))):
                    start = time.perf_counter()
                    step()
                    bucket.append(1e3 * (time.perf_counter() - start))
    finally:
        if gc_was_enabled:
            gc.enable()
    return times


def median_ms(steps, repeats, block=1):
    """Median wall time in ms of each function in `steps` (see times_ms)."""
    return [statistics.median(bucket) for bucket in times_ms(steps, repeats, block)]


def peak_bytes(prepare, measured):
    """Bytes allocated at the peak of measured(), above what prepare() left.

    The result of measured() counts: it is memory the call needs.
    """
    gc.collect()
    tracemalloc.start()
    try:
        prepare()
        tracemalloc.reset_peak()
        baseline = tracemalloc.get_traced_memory()[0]
        result = measured()
        peak = tracemalloc.get_traced_memory()[1]
        del result
    finally:
        tracemalloc.stop()
    return peak - baseline


#: glibc's mallopt parameters (malloc.h), and the value given to both: 1 GiB.
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
KEPT_BYTES = 2**30


def keep_freed_memory():
    """Ask glibc's malloc to keep freed memory for reuse; True if it could.

    By default glibc hands memory back to the operating system once the free
    space at the top of its heap passes a threshold that moves with the sizes
    freed so far, and an array of 4 MiB may even get pages of its own. The
    next array is then fresh memory, which page-faults on first touch: a cost
    in the kernel, per 4 KiB page, that can exceed the formula's arithmetic.
    Whether it happens depends on which arrays the caller keeps from one call
    to the next, so it measures the allocator's state rather than the layer.
    With both thresholds at 1 GiB every array comes from recycled memory, as
    in a training loop that has run for a while, and the times measure the
    arithmetic. Elsewhere than on glibc nothing changes (False).
    """
    name = ctypes.util.find_library("c")
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError, TypeError):  # not glibc, e.g. macOS
        return False
    return all(mallopt(parameter, KEPT_BYTES) == 1
               for parameter in (M_TRIM_THRESHOLD, M_MMAP_THRESHOLD))


@contextlib.contextmanager
def blas_limit(threads):
    """Run numpy's BLAS on `threads` threads (0: the library's default) where possible."""
    if threads == 0 or threadpoolctl is None:
        yield
        return
    with threadpoolctl.threadpool_limits(limits=threads, user_api="blas"):
        yield


def blas_threads():
    """Threads of each BLAS loaded in this process, e.g. 'openblas 1', as text."""
    if threadpoolctl is None:
        return "the library's default, one per CPU (threadpoolctl is not installed)"
    pools = [pool for pool in threadpoolctl.threadpool_info() if pool["user_api"] == "blas"]
    described = [f"{pool['internal_api']} {pool['num_threads']}" for pool in pools]
    return ", ".join(described) or "none found"


# --------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------

def print_table(headers, rows):
    """Plain-text table: number columns right-aligned, the others left-aligned."""
    rows = [[str(cell) for cell in row] for row in rows]
    columns = range(len(headers))
    widths = [max(len(line[i]) for line in [headers, *rows]) for i in columns]

    def is_number(text):
        return text[:1].isdigit() or text == "-"

    numeric = [all(is_number(row[i]) for row in rows) for i in columns]

    def line(cells):
        return "  ".join(
            cell.rjust(width) if right else cell.ljust(width)
            for cell, width, right in zip(cells, widths, numeric)
        ).rstrip()

    print(line(headers))
    print("  ".join("-" * width for width in widths))
    for row in rows:
        print(line(row))


def print_header(args, sizes):
    blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    cpus = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cpus
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    wanted = "library default" if args.blas_threads == 0 else args.blas_threads
    print("Layer benchmark: time and memory of forward and backward (float64)")
    print(f"  python       {platform.python_version()} on {platform.machine()}")
    print(f"  numpy        {np.__version__}, BLAS {blas['name']} {blas.get('version', '')}")
    print(f"  BLAS threads {blas_threads()} (--blas-threads {wanted}); numpy's elementwise ops: 1")
    print(f"  CPUs         {cpus} (usable by this process: {usable}); load average {load}")
    for variable in ("OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        print(f"  {variable:<12} {os.environ.get(variable, '(unset)')}")
    print(f"  torch        {torch.__version__ if torch is not None else 'not importable'}")
    print(f"  allocator    {args.allocator}")
    mode = "quick (smoke run, small sizes)" if args.quick else "full"
    print(f"  run          {mode}; median of {args.repeats} repeats after a warm-up")
    print(f"  sizes        {sizes}")


# --------------------------------------------------------------------------
# The three parts
# --------------------------------------------------------------------------

def bench_layers(n, k, repeats):
    """Part 1: forward and backward time beside bare numpy; copies; backward peak memory.

    Returns:
    - met: {target name: [bool, one per layer]}, and under "floor" the layers
      whose floor alone is beyond the bare-numpy target.
    """
    x, g, data = make_case(n, k)
    unit = n * k * 8
    rows = []
    met = {"bare": [], "copies": [], "peak": [], "floor": []}
    for name in LAYER_NAMES:
        layer = make_layer(name, k, data)
        bare = bare_numpy(name, layer)
        if bare is not None:
            np.testing.assert_allclose(bare(x, g), (layer.forward(x), layer.backward(g))[1],
                                       rtol=1e-9, atol=1e-12, err_msg=name)
        # Forward then backward, as in training, each part timed on its own;
        # bare numpy's forward + backward and its floor as one step each, the
        # three in alternating blocks.
        split = []

        def layer_step():
            start = time.perf_counter()
            layer.forward(x)
            middle = time.perf_counter()
            layer.backward(g)
            split.append((1e3 * (middle - start), 1e3 * (time.perf_counter() - middle)))

        steps = [layer_step]
        if bare is not None:
            floor = contract_floor(bare)
            steps += [lambda: bare(x, g), lambda: floor(x, g)]
        both_ms, *bare_ms = times_ms(steps, repeats, block=5)
        forward_ms, backward_ms = zip(*split[1:])  # the first is the warm-up
        copies = input_copies(layer, x)
        forward_peak = peak_bytes(lambda: None, lambda: layer.forward(x))
        peak = peak_bytes(lambda: layer.forward(x), lambda: layer.backward(g))
        if bare_ms:
            bare_median, floor_median = (statistics.median(times) for times in bare_ms)
            ratio = statistics.median(both_ms) / bare_median
            met["bare"].append(ratio <= BARE_TARGET)
            if floor_median / bare_median > BARE_TARGET:
                met["floor"].append(name)
            bare_cells = [f"{bare_median:.2f}", f"{floor_median / bare_median:.2f}",
                          f"{ratio:.2f}", "pass" if met["bare"][-1] else "FAIL"]
        else:
            bare_cells = ["-", "-", "-", "-"]
        met["copies"].append(copies <= COPY_TARGET)
        met["peak"].append(peak < PEAK_TARGET * unit)
        rows.append([
            name,
            f"{statistics.median(forward_ms):.2f}",
            f"{statistics.median(backward_ms):.2f}",
            f"{statistics.median(both_ms):.2f}",
            *bare_cells,
            f"{copies}",
            f"{forward_peak / unit:.2f}",
            f"{peak / unit:.2f}",
            "pass" if met["peak"][-1] else "FAIL",
        ])
    print(f"\n1. Forward and backward, N = {n}, K = {k} (one (N, K) float64 array is "
          f"{unit / MIB:.2f} MiB)")
    print("   times: medians in ms; bare: the same formula in plain numpy, forward + backward, "
          "no validation ('-': no formula written for the benchmark)")
    print("   floor/bare: bare numpy plus the contract's own work (x copied and kept, x and g "
          "checked finite), the least a layer can cost")
    print("   copies: of the input per forward; memory in units of N*K*8 bytes: forward's peak, "
          "and backward's peak above what forward left (results included)")
    print_table(
        ["layer", "forward", "backward", "fwd+bwd", "bare", "floor/bare", "layer/bare",
         f"<= {BARE_TARGET:g}x", "copies", "fwd peak", "bwd peak", f"bwd < {PEAK_TARGET}"],
        rows,
    )
    return met


def bench_jacobian_route(n, k, repeats):
    """Part 2: backward against einsum with the materialised Jacobian."""
    x, g, data = make_case(n, k)
    rows = []
    for name in LAYER_NAMES:
        layer = make_layer(name, k, data)
        layer.forward(x)
        if jacobian_route(layer, g) is None:
            rows.append([name] + ["-"] * 7)
            continue
        backward_ms, jacobian_ms = median_ms(
            [lambda: layer.backward(g), lambda: jacobian_route(layer, g)], repeats
        )
        backward_peak = peak_bytes(lambda: layer.forward(x), lambda: layer.backward(g))
        jacobian_peak = peak_bytes(lambda: layer.forward(x), lambda: jacobian_route(layer, g))
        error = layers.relative_error(layer.backward(g), jacobian_route(layer, g))
        rows.append([
            name,
            f"{backward_ms:.3f}",
            f"{jacobian_ms:.3f}",
            f"{jacobian_ms / backward_ms:.1f}",
            f"{backward_peak / MIB:.2f}",
            f"{jacobian_peak / MIB:.2f}",
            f"{jacobian_peak / backward_peak:.0f}",
            f"{error:.0e}",
        ])
    print(f"\n2. backward(g) against einsum('ni,nij->nj', g, gradient()), N = {n}, K = {k}")
    print(f"   the Jacobian route's time and memory include building the Jacobian, "
          f"{n * k * k * 8 / MIB:.0f} MiB at (N, K, K);")
    print("   the fully connected layer's Jacobian is one (K, K) matrix, so its route is "
          "einsum('ni,ij->nj', g, gradient()); '-': rows interact, no per-row Jacobian")
    print_table(
        ["layer", "backward ms", "jacobian ms", "speed-up", "bwd peak MiB", "jac peak MiB",
         "memory ratio", "rel. diff"],
        rows,
    )


def torch_cases(k, data):
    """(layer name, numpy layer, torch function of x) for the same computation."""
    fully_connected = make_layer("FullyConnectedLayer", k, data)
    weight = torch.from_numpy(fully_connected.weights.T.copy())  # torch stores (out, in)
    bias = torch.from_numpy(fully_connected.biases[0].copy())
    return [
        ("FullyConnectedLayer", fully_connected,
         lambda x: torch.nn.functional.linear(x, weight, bias)),
        ("ReLULayer", layers.ReLULayer(), torch.relu),
        ("LogisticSigmoidLayer", layers.LogisticSigmoidLayer(), torch.sigmoid),
        ("TanhLayer", layers.TanhLayer(), torch.tanh),
        ("SoftmaxLayer", layers.SoftmaxLayer(), lambda x: torch.softmax(x, dim=1)),
    ]


def bench_torch(n, k, repeats):
    """Part 3: forward + backward against PyTorch autograd on one thread."""
    if torch is None:
        print(f"\n3. PyTorch comparison SKIPPED: torch is not importable. To enable it, run "
              f"`{TORCH_INSTALL}` (the CPU build) in a separate environment; the course pack "
              "itself does not need torch.")
        return None
    torch.set_num_threads(1)
    x, g, data = make_case(n, k)
    # Only x requires a gradient: torch then computes dL/dx alone, as backward() does.
    x_torch = torch.from_numpy(x.copy()).requires_grad_(True)
    g_torch = torch.from_numpy(g.copy())

    rows, met = [], []
    for name, layer, function in torch_cases(k, data):
        def numpy_step():
            layer.forward(x)
            return layer.backward(g)

        def torch_step():
            x_torch.grad = None
            function(x_torch).backward(g_torch)
            return x_torch.grad

        numpy_ms, torch_ms = median_ms([numpy_step, torch_step], repeats, block=5)
        error = layers.relative_error(numpy_step(), torch_step().numpy())
        ratio = numpy_ms / torch_ms
        met.append(ratio <= TORCH_TARGET)
        rows.append([name, f"{numpy_ms:.2f}", f"{torch_ms:.2f}", f"{ratio:.2f}",
                     f"{error:.0e}", "pass" if met[-1] else "FAIL"])

    print(f"\n3. Against PyTorch {torch.__version__} autograd: forward + backward(g), float64, "
          f"N = {n}, K = {k}")
    print(f"   threads: torch {torch.get_num_threads()} (torch.set_num_threads(1)); numpy "
          f"elementwise 1, BLAS {blas_threads()}")
    print("   rel. diff: backward(g) against torch's x.grad (sigmoid and tanh differ by the "
          "eps = 1e-7 convention)")
    print_table(
        ["layer", "numpy ms", "torch ms", "numpy/torch", "rel. diff", f"<= {TORCH_TARGET:g}x"],
        rows,
    )
    return met


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=None,
                        help="timed runs per measurement, the median is reported "
                             "(default 15; 5 with --quick)")
    parser.add_argument("--quick", action="store_true",
                        help="small sizes for a smoke run (seconds; not a measurement)")
    parser.add_argument("--blas-threads", type=int, default=1,
                        help="threads for numpy's BLAS (default 1; 0 keeps the library's default)")
    parser.add_argument("--check", action="store_true",
                        help="exit with status 1 when a target fails")
    parser.add_argument("--default-allocator", action="store_true",
                        help="leave glibc's malloc as it is: freed memory may go back to the "
                             "system and page-fault again (see keep_freed_memory)")
    args = parser.parse_args(argv)
    if args.repeats is None:
        args.repeats = 5 if args.quick else 15
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    if args.blas_threads < 0:
        parser.error("--blas-threads must be 0 (library default) or more")

    if args.quick:
        sizes = {"layers": (64, 256), "jacobian": (32, 64)}
    else:
        sizes = {"layers": (256, 2048), "jacobian": (128, 256)}

    args.allocator = "the default (--default-allocator)"
    if not args.default_allocator:
        args.allocator = ("freed memory kept for reuse (glibc mallopt: trim and mmap "
                          "thresholds 1 GiB)" if keep_freed_memory()
                          else "the default (not glibc: mallopt unavailable)")

    with blas_limit(args.blas_threads):
        print_header(args, "parts 1 and 3: N={}, K={}; part 2: N={}, K={}".format(
            *sizes["layers"], *sizes["jacobian"]))
        met = bench_layers(*sizes["layers"], args.repeats)
        bench_jacobian_route(*sizes["jacobian"], args.repeats)
        met["torch"] = bench_torch(*sizes["layers"], args.repeats)

    targets = [
        ("bare", f"forward+backward within {BARE_TARGET:g}x of bare numpy"),
        ("copies", f"at most {COPY_TARGET} copy of the input per forward"),
        ("peak", f"backward peak < {PEAK_TARGET}*N*K*8 bytes"),
        ("torch", f"forward+backward within {TORCH_TARGET:g}x of PyTorch"),
    ]
    print("\nTargets")
    failed = []
    for key, text in targets:
        if met[key] is None:
            print(f"  {text}: not measured (torch not importable)")
            continue
        print(f"  {text}: {sum(met[key])} of {len(met[key])} layers pass")
        if not all(met[key]):
            failed.append(text)
        if key == "bare" and met.get("floor"):
            print(f"    beyond reach for {', '.join(met['floor'])}: the floor alone (bare numpy "
                  f"plus the copy and the checks) is above {BARE_TARGET:g}x")
    if args.check and failed:
        print(f"--check: {len(failed)} target(s) failed: " + "; ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
