"""A LightGBM booster's scores of a float matrix, one row through LightGBM's C API fast
path.

``Booster.predict`` builds a predictor object and checks its input on every call:
for the one row a request scores, that costs several times the trees themselves
(benchmarks/serving.py measures both). LightGBM's C API has a path for exactly this
case: ``LGBM_BoosterPredictForMatSingleRowFastInit`` prepares the prediction's
settings once, and ``LGBM_BoosterPredictForMatSingleRowFast`` then scores a row of
doubles. ``booster_rows(booster)`` wraps both: one row goes through the fast path, more
rows through ``Booster.predict`` (on one thread), as before.

The fast path reaches LightGBM's loaded library and the booster's handle, which the
Python package does not document; ``booster_rows`` returns None (callers then use
``Booster.predict``) when either is missing, when the model gives more than one value
per row, or when the fast path's score of a test row differs from ``Booster.predict``'s.
"""

from __future__ import annotations

import ctypes
import math
import threading
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["booster_rows"]

_PREDICT_NORMAL = 0  # C_API_PREDICT_NORMAL: the transformed score (a probability)
_FLOAT64 = 1  # C_API_DTYPE_FLOAT64


def booster_rows(booster: Any) -> Callable[[np.ndarray], np.ndarray] | None:
    """Scores of a float64 matrix (the booster's features in order) by ``booster``, a
    ``lightgbm.Booster``; None when the fast path cannot be used (see the module
    docstring)."""
    try:
        from lightgbm import basic
    except ImportError:
        return None
    lib = getattr(basic, "_LIB", None)
    handle = getattr(booster, "_handle", None)
    if lib is None or handle is None or not hasattr(lib, "LGBM_BoosterPredictForMatSingleRowFast"):
        return None
    try:
        columns = int(booster.num_feature())
        if int(booster.num_model_per_iteration()) != 1:
            return None
        fast = ctypes.c_void_p()
        status = lib.LGBM_BoosterPredictForMatSingleRowFastInit(
            handle, ctypes.c_int(_PREDICT_NORMAL), ctypes.c_int(0),
            ctypes.c_int(int(getattr(booster, "best_iteration", 0) or 0)),
            ctypes.c_int(_FLOAT64), ctypes.c_int32(columns), ctypes.c_char_p(b"num_threads=1"),
            ctypes.byref(fast))
    except Exception:  # an unexpected LightGBM: fall back to Booster.predict
        return None
    if status != 0 or not fast.value:
        return None
    rows = _BoosterRows(booster, lib, fast, columns)
    for probe in (np.zeros((1, columns)), np.full((1, columns), np.nan)):
        expected = np.asarray(booster.predict(probe, num_threads=1), dtype=float)
        got = rows(probe)
        if got.shape != expected.shape or not math.isclose(
                float(got[0]), float(expected[0]), rel_tol=1e-12, abs_tol=1e-15):
            return None
    return rows


class _BoosterRows:
    """The callable ``booster_rows`` returns; frees LightGBM's settings with itself.

    A row is copied into a buffer of its own, whose address, like the result's, is
    taken once: numpy's ``ctypes`` views cost more per call than the trees."""

    def __init__(self, booster: Any, lib: Any, fast: ctypes.c_void_p, columns: int) -> None:
        self.booster = booster  # keeps the handle the settings refer to alive
        self.fast = fast
        self.columns = columns
        # a function object of our own (CDLL attributes are shared with LightGBM's code)
        self.predict = lib["LGBM_BoosterPredictForMatSingleRowFast"]
        self.predict.argtypes = [ctypes.c_void_p, ctypes.c_void_p,
                                 ctypes.POINTER(ctypes.c_int64), ctypes.c_void_p]
        self.predict.restype = ctypes.c_int
        self.row = np.zeros((1, columns), dtype=np.float64)
        self.out = np.zeros(1, dtype=np.float64)
        self.length = ctypes.c_int64()
        self.length_ref = ctypes.pointer(self.length)
        self.addresses = (self.row.ctypes.data, self.out.ctypes.data)
        self.lock = threading.Lock()  # one prediction at a time per settings and buffers
        weakref.finalize(self, lib.LGBM_FastConfigFree, fast)

    def __call__(self, values: np.ndarray) -> np.ndarray:
        if values.shape != (1, self.columns):
            return np.asarray(self.booster.predict(values, num_threads=1), dtype=float)
        with self.lock:
            self.row[...] = values
            row, out = self.addresses
            status = self.predict(self.fast, row, self.length_ref, out)
            score = self.out.copy()
        if status != 0 or self.length.value != 1:  # refused: LightGBM's own path says why
            return np.asarray(self.booster.predict(values, num_threads=1), dtype=float)
        return score
