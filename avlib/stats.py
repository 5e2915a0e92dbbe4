"""Intervals over seeds (a leaf module: numpy, scipy and avlib.errors only).

Every number the book quotes as ours is a mean over seeds with a confidence
interval: Student t by default, or a percentile bootstrap. The bootstrap of
a mean over a handful of seeds is too narrow (it cannot see beyond the few
values it resamples), so it is refused below :data:`MIN_BOOTSTRAP` values.
Differences between two metrics are paired by seed when both were measured
on the same seeds (the claims' comparisons), Welch otherwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from avlib.errors import ConfigError

METHODS = ("t", "bootstrap")
N_BOOT = 10_000  # bootstrap resamples
MIN_BOOTSTRAP = 10  # fewer values: the bootstrap interval is too narrow to report


@dataclass(frozen=True)
class Summary:
    """Mean over seeds with a confidence interval (nan bounds when fewer than 2 values)."""

    mean: float
    ci_low: float
    ci_high: float
    std: float
    n: int
    confidence: float = 0.95
    method: str = "t"

    @property
    def half_width(self) -> float:
        """Half the interval's width (the ± of ``mean ± CI``)."""
        return (self.ci_high - self.ci_low) / 2

    def shifted(self, by: float) -> Summary:
        """The same summary of ``values - by``."""
        return Summary(
            self.mean - by,
            self.ci_low - by,
            self.ci_high - by,
            self.std,
            self.n,
            self.confidence,
            self.method,
        )

    def format(self, scale: float = 1.0, digits: int = 1, unit: str = "") -> str:
        """'72.1 ± 1.3 (3 seeds)' ('72.1 ± 1.3 % (3 seeds)' with unit '%'); one seed has no CI."""
        if self.n == 0:
            return "no results yet"
        unit = f" {unit}" if unit else ""
        mean = f"{self.mean * scale:.{digits}f}"
        if self.n < 2:
            return f"{mean}{unit} (1 seed, no CI)"
        return f"{mean} ± {self.half_width * scale:.{digits}f}{unit} ({self.n} seeds)"


def _check_method(method: str, n: int) -> None:
    if method not in METHODS:
        raise ConfigError(f"unknown interval method {method!r}: use 't' or 'bootstrap'")
    if method == "bootstrap" and 0 < n < MIN_BOOTSTRAP:
        raise ConfigError(
            f"a bootstrap interval over {n} values is too narrow to report: use method='t' "
            f"or at least {MIN_BOOTSTRAP} seeds"
        )


def _quantiles(samples: np.ndarray, confidence: float) -> tuple[float, float]:
    low, high = np.quantile(samples, [(1 - confidence) / 2, (1 + confidence) / 2])
    return float(low), float(high)


def _resampled_means(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return x[rng.integers(0, len(x), size=(N_BOOT, len(x)))].mean(axis=1)


def mean_ci(values, confidence: float = 0.95, method: str = "t", seed: int = 0) -> Summary:
    """Mean and CI of ``values``: Student t (``method="t"``) or percentile bootstrap (n >= 10)."""
    x = np.asarray(values, dtype=float)
    n = len(x)
    _check_method(method, n)
    mean = float(x.mean()) if n else math.nan
    std = float(x.std(ddof=1)) if n > 1 else math.nan
    if n < 2:
        return Summary(mean, math.nan, math.nan, std, n, confidence, method)
    if method == "t":
        half = float(stats.t.ppf((1 + confidence) / 2, n - 1)) * std / math.sqrt(n)
        return Summary(mean, mean - half, mean + half, std, n, confidence, method)
    low, high = _quantiles(_resampled_means(x, np.random.default_rng(seed)), confidence)
    return Summary(mean, low, high, std, n, confidence, method)


def difference_ci(
    a, b, *, paired: bool, confidence: float = 0.95, method: str = "t", seed: int = 0
) -> Summary:
    """CI of mean(a) - mean(b): over per-seed differences when ``paired``, else Welch t or
    an independent bootstrap (``std`` is then the difference's standard error)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if paired:
        if len(a) != len(b):
            raise ConfigError(f"paired difference needs equal lengths, got {len(a)} and {len(b)}")
        return mean_ci(a - b, confidence, method, seed)
    n = min(len(a), len(b))
    _check_method(method, n)
    diff = float(a.mean() - b.mean()) if n else math.nan
    if n < 2:
        return Summary(diff, math.nan, math.nan, math.nan, n, confidence, method)
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = math.sqrt(va + vb)
    if method == "t":
        df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1)) if se > 0 else 1.0
        half = float(stats.t.ppf((1 + confidence) / 2, df)) * se
        return Summary(diff, diff - half, diff + half, se, n, confidence, method)
    rng = np.random.default_rng(seed)
    low, high = _quantiles(_resampled_means(a, rng) - _resampled_means(b, rng), confidence)
    return Summary(diff, low, high, se, n, confidence, method)
