"""Comparing a returned array with the expected one, in the parent."""

import numpy as np

from .rubric import RTOL


def compare(got, expected, atol):
    """None when `got` matches `expected`, else why not.

    Match: same shape, every entry finite where the expected one is, and
    |got - expected| <= atol + RTOL |expected| entrywise.
    Returns None or a dict {"kind": "shape" | "nonfinite" | "values", ...}
    with the offending index, the expected and the returned value.
    """
    got = np.asarray(got, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if got.shape != expected.shape:
        return {"kind": "shape", "got": got.shape, "expected": expected.shape}
    if got.size == 0:
        return None
    bad = ~np.isfinite(got)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        return {"kind": "nonfinite", "index": index, "got": got[index], "expected": expected[index]}
    with np.errstate(over="ignore", invalid="ignore"):
        excess = np.abs(got - expected) / (atol + RTOL * np.abs(expected))
    if not (excess <= 1.0).all():
        flat = int(np.nanargmax(np.where(np.isfinite(excess), excess, np.inf)))
        index = tuple(int(i) for i in np.unravel_index(flat, got.shape))
        return {"kind": "values", "index": index, "got": got[index], "expected": expected[index]}
    return None
