"""The child side of the grader: the only code that runs next to a submission.

The parent starts this file's source with ``python -I -S -B -c <source>
SUBMISSION SITE_DIR`` inside the sandbox. It uses the standard library and
numpy only and never imports the grader: inside the sandbox the grader does not
exist. Order matters, so that nothing a submission does at import time can
change what it was asked or how limits were set:

1. read the whole request (nonce, result descriptor, limits, cases) from stdin,
   then close stdin;
2. set CPU, memory, file-size, open-file and core limits with ``resource``;
3. load the submission from its path as the module ``layers`` (never as
   ``__main__``, so its own command line does not run);
4. run the parts in order, announcing each, and write one JSON line per case,
   tagged with the nonce, to the inherited result descriptor (never pickle;
   never stdout, which the submission shares);
5. leave with ``os._exit`` so that the submission's exit hooks cannot run.

The parent compares the returned arrays with expected values that exist only
in the parent. The functions below that a submission's numerical_jacobian
differentiates live here so that parent and child use the same code.
"""

import os
import sys

if __name__ == "__main__":
    # Run as `python -I -S -c <source> SUBMISSION SITE_DIR`: numpy lives in SITE_DIR alone.
    sys.path.append(sys.argv[2])

import numpy as np


# --------------------------------------------------------------------------
# Functions whose Jacobian a submission's numerical_jacobian estimates. Row by
# row, elementwise arithmetic only (no BLAS, so every row's values are the same
# bit for bit whatever the batch), with curvature so that forward differences
# are caught, and O(1) entries so that round-off stays far below the tolerance.
# --------------------------------------------------------------------------

def poly_mix(x):
    """(N, K) -> (N, K): x^3 / 3 + x * reversed(x); Jacobian diag(x^2) plus a mirror term."""
    return x ** 3 / 3.0 + x * x[:, ::-1]


def cumulative(x):
    """(N, K) -> (N, K + 1): running sums of x^2, then exp(x_0 / 2) * sum(x)."""
    running = np.cumsum(x ** 2, axis=1)
    last = np.exp(x[:, :1] / 2.0) * x.sum(axis=1, keepdims=True)
    return np.concatenate([running, last], axis=1)


TEST_FUNCTIONS = {"poly_mix": poly_mix, "cumulative": cumulative}

#: Largest array a submission may return (entries); more is an answer to no case.
MAX_ENTRIES = 100_000


# --------------------------------------------------------------------------
# The child's main program
# --------------------------------------------------------------------------

def _set_limits(limits):
    import resource

    cpu = int(limits["cpu_seconds"])
    wanted = {
        "CPU time": (resource.RLIMIT_CPU, (cpu, cpu + 1)),
        "address space": (resource.RLIMIT_AS, (limits["memory_bytes"],) * 2),
        "file size": (resource.RLIMIT_FSIZE, (limits["file_bytes"],) * 2),
        "core size": (resource.RLIMIT_CORE, (0, 0)),
        "open files": (resource.RLIMIT_NOFILE, (64, 64)),
    }
    refused = []
    for name, (which, value) in wanted.items():
        try:
            resource.setrlimit(which, value)
        except (ValueError, OSError):  # e.g. macOS refuses an address-space limit
            refused.append(name)
    return refused


def _encode(value):
    """A returned value as JSON-ready {"shape", "data"}, or {"bad": why} if it is not numbers."""
    try:
        array = np.asarray(value)
        if array.dtype == object or not (
            np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_
        ):
            return {"bad": f"returned {type(value).__name__} of dtype {array.dtype}, not real numbers"}
        if np.iscomplexobj(array):
            return {"bad": "returned complex numbers"}
        if array.size > MAX_ENTRIES:
            return {"bad": f"returned an array of {array.size} entries"}
        array = array.astype(np.float64)
        return {"shape": list(array.shape), "data": array.ravel().tolist()}
    except BaseException as error:  # a hostile __array__ may raise anything
        return {"bad": f"returned {type(value).__name__}, which is not an array ({type(error).__name__})"}


def _describe(error, submission):
    """Exception type, message, and the line of the submission where it happened."""
    import traceback

    try:
        message = str(error)
    except BaseException:
        message = "<message could not be printed>"
    line = text = None
    if isinstance(error, SyntaxError) and error.filename == submission:
        line, text = error.lineno, (error.text or "").strip()
    else:
        try:
            for frame in traceback.extract_tb(error.__traceback__):
                if frame.filename == submission:
                    line, text = frame.lineno, (frame.line or "").strip()
        except BaseException:
            pass
    return {
        "type": type(error).__name__,
        "message": message[:400],
        "line": line,
        "text": (text or "")[:160],
    }


def _set_state(layer, prev_in, prev_out):
    """Leave `layer` as if its forward pass had returned the reference output.

    The layer's own forward runs (so the pack's bookkeeping in the base classes
    happens: prev_in, the output shape, the fully connected layer's weights of
    the pass) with the submission's formula _forward replaced by the reference
    output; then prev_in and prev_out are set to the reference arrays. A bug in
    the submission's _forward so cannot fail its gradient or backward as well.
    """
    layer._forward = lambda x: prev_out.copy()
    try:
        layer.forward(prev_in.copy())
    except Exception:
        pass  # a forward of the submission's own making; the attributes below suffice
    finally:
        layer.__dict__.pop("_forward", None)
    layer.prev_in = prev_in
    layer.prev_out = prev_out


#: Seconds a submission's own forward may take before a gradient or backward case
#: (the reference's takes microseconds on these inputs).
OWN_FORWARD_SECONDS = 0.25
#: Classes whose forward overran here once: their later cases skip it.
_slow_forward = set()


class _Overrun(BaseException):
    """Raised by the alarm in a forward that overran (BaseException: `except Exception` in
    the submission does not swallow it)."""


def _own_forward(layer, cls_name, x):
    """Run the submission's forward for the state it keeps, bounded in time, ignoring what it
    raises: a forward that loops or fails costs the forward part, not gradient or backward."""
    import signal

    if cls_name in _slow_forward:
        return

    def overrun(signum, frame):
        raise _Overrun()

    previous = signal.signal(signal.SIGALRM, overrun)
    signal.setitimer(signal.ITIMER_REAL, OWN_FORWARD_SECONDS)
    try:
        layer.forward(x)
    except _Overrun:
        _slow_forward.add(cls_name)
    except Exception:
        pass
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _run_case(module, part, case):
    """Run one case; returns {"outputs": [...], "after": {...}}. Exceptions propagate."""
    arrays = {name: np.array(value, dtype=np.float64) for name, value in case.get("arrays", {}).items()}
    kind = part["kind"]
    if kind == "numerical_jacobian":
        function = TEST_FUNCTIONS[case["function"]]
        kwargs = {"h": case["h"]} if "h" in case else {}
        outputs = [module.numerical_jacobian(function, arrays["x"], **kwargs)]
    elif kind.startswith("objective_"):
        objective = getattr(module, part["cls"])(**case.get("init", {}))
        method = objective.eval if kind == "objective_eval" else objective.gradient
        outputs = [method(arrays["y"], arrays["yhat"])]
    else:
        init = dict(case.get("init", {}))
        if "rng_seed" in case:
            init["rng"] = np.random.default_rng(case["rng_seed"])
        if "data" in arrays:
            init["data"] = arrays["data"]
        layer = getattr(module, part["cls"])(**init)
        for name in case.get("attrs", []):
            setattr(layer, name, arrays[name].copy() if name in arrays else case["values"][name])
        if "state" in case:
            if case.get("own_forward"):
                # A layer that keeps state of its own making: its own forward first
                # (whatever it raises), then the reference's state over it.
                _own_forward(layer, part["cls"], arrays["prev_in"].copy())
            _set_state(layer, arrays["prev_in"], arrays["prev_out"])
            for name in case.get("state_attrs", []):
                value = arrays[name].copy() if name in arrays else case["state_values"][name]
                owner, _, attribute = name.rpartition(".")
                target = getattr(layer, owner, None) if owner else layer
                if target is not None:  # a helper the submission does not keep needs no state
                    setattr(target, attribute, value)
        if kind == "layer_forward":
            outputs = [layer.forward(arrays["x"])]
            outputs += [getattr(layer, name, None) for name in case.get("report", [])]
        elif kind == "layer_gradient":
            outputs = [layer.gradient()]
        elif kind == "layer_backward":
            outputs = [layer.backward(arrays["grad_in"])]
        elif kind == "weight_gradients":
            pair = layer.weight_gradients(arrays["grad_in"])
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                return {"bad": f"returned {type(pair).__name__}, expected the pair (dW, db)"}
            outputs = list(pair)
        else:
            raise ValueError(f"unknown part kind {kind!r}")
    return {
        "outputs": [_encode(value) for value in outputs],
        "after": {name: _encode(arrays[name]) for name in case.get("unchanged", [])},
    }


def main():
    import importlib.util
    import json

    # Keep our own references: a submission may replace module attributes.
    write, dumps, exit_now = os.write, json.dumps, os._exit
    request = json.loads(sys.stdin.buffer.read())
    nonce, result_fd = request["nonce"], request["result_fd"]
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    refused = _set_limits(request["limits"])

    def send(message):
        message["nonce"] = nonce
        write(result_fd, (dumps(message) + "\n").encode())

    submission = sys.argv[1]
    del request["nonce"]
    send({"event": "started", "refused_limits": refused})
    try:
        spec = importlib.util.spec_from_file_location("layers", submission)
        module = importlib.util.module_from_spec(spec)
        sys.modules["layers"] = module
        spec.loader.exec_module(module)
    except BaseException as error:
        send({"event": "import_error", "error": _describe(error, submission)})
        exit_now(0)
    send({"event": "imported"})
    for part in request.get("parts", []):
        # The parent times each part from this message on.
        send({"event": "part", "part": part["name"]})
        for case in part["cases"]:
            try:
                result = _run_case(module, part, case)
            except BaseException as error:
                result = {"error": _describe(error, submission)}
            message = {"event": "case", "part": part["name"], "case": case["id"]}
            try:
                send(dict(message, **result))
            except BaseException as error:  # e.g. an unencodable message: report it
                send(dict(message, bad=f"returned something that could not be sent ({type(error).__name__})"))
    send({"event": "done"})
    exit_now(0)


if __name__ == "__main__":
    main()
