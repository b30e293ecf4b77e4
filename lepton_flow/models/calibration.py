"""Calibrated flags: each channel's raw anomaly score judged against that channel's own recent scores.

A model's raw score (a reconstruction error) has a scale of its own per
sensor and moves with the data: a threshold fixed on the validation range
flags a third of a series whose level drifts later, and thresholds cannot be
compared across sensors. Here a score becomes a tail probability: the share
of the channel's recent scores at least as high (the last `window` scored
rows, the validation range's scores standing in until that many exist), the
empirical form of the "anomaly likelihood" NAB uses for HTM. A flag is a tail
probability under `flag_rate`, so the rate is the user's parameter and means
the same on every sensor; after a drift the recent history fills with the
new level within a few rows and the rate holds.

Pure NumPy: scoring feeds it raw scores a block at a time and keeps its
history between blocks.
"""

from __future__ import annotations

import numpy as np

REFERENCE_POINTS = 1024
"""Validation scores a model card keeps per channel (evenly spaced order statistics)."""


def reference_sample(scores: np.ndarray, points: int = REFERENCE_POINTS) -> list[list[float]]:
    """Per column of `(rows, channels)` validation scores, up to `points` sorted values spanning its distribution."""
    out = []
    for col in range(scores.shape[1]):
        finite = np.sort(scores[np.isfinite(scores[:, col]), col])
        if finite.size > points:
            finite = finite[np.linspace(0, finite.size - 1, points).round().astype(int)]
        out.append([float(v) for v in finite])
    return out


class Calibrator:
    """Tail probabilities of raw scores against each channel's trailing `window` rows, exactly, in row order.

    Row t is judged against rows [t - window, t): the share of their finite
    scores at least as high as its own. `reference` holds each channel's
    validation scores; until `window` real rows exist they stand in as the
    oldest rows (in a fixed shuffled order), and leave first. `history` is
    the raw scores of the rows just before the first one to calibrate.
    """

    def __init__(self, reference: list[list[float]], history: np.ndarray | None = None, window: int = 2880, block: int = 128):
        self.window, self.block = int(window), int(block)
        channels = len(reference)
        longest = max([len(r) for r in reference] + [0])
        seeded = np.full((longest, channels), np.nan)
        rng = np.random.default_rng(0)
        for col, ref in enumerate(reference):
            seeded[longest - len(ref) :, col] = rng.permutation(np.asarray(ref, np.float64))
        held = np.empty((0, channels)) if history is None else np.asarray(history, np.float64).reshape(-1, channels)
        self._history = np.concatenate([seeded, held])[-self.window :]
        # The steepness of each channel's tail past its largest score: from its validation scores (fixed, so that a
        # row's tail does not depend on how the rows were cut into calls and blocks).
        self._scale = [_tail_scale(np.sort(np.asarray(r, np.float64))) for r in reference]

    def __call__(self, raw: np.ndarray, joins: np.ndarray | None = None) -> np.ndarray:
        """Tail probability of each raw score `(rows, channels)` (NaN where the score is NaN, float64).

        The rows join the history after they are judged, except where `joins` (one bool per row) is False: rows a
        model was trained on score lower than new data would, and would make everything after them look rare.
        """
        raw = np.asarray(raw, np.float64)
        joins = np.ones(raw.shape[0], bool) if joins is None else np.asarray(joins, bool)
        out = np.full(raw.shape, np.nan)
        for a in range(0, raw.shape[0], self.block):
            b = min(raw.shape[0], a + self.block)
            out[a:b] = self._block(raw[a:b], joins[a:b])
            self._history = np.concatenate([self._history, raw[a:b][joins[a:b]]])[-self.window :]
        return out

    def _block(self, s: np.ndarray, joins: np.ndarray) -> np.ndarray:
        rows, channels = s.shape
        hist = self._history
        # Row i of the block sees the history less its `leaving[i]` oldest rows, plus the block's joining rows before it.
        joined_before = np.concatenate([[0], np.cumsum(joins)[:-1]])
        leaving = np.maximum(0, hist.shape[0] + joined_before - self.window)
        earlier = np.tril(np.ones((rows, rows), bool), -1) & joins[None, :]  # [i, j]: j joined before i
        old = hist[: min(rows, hist.shape[0])] if hist.shape[0] else np.empty((0, channels))
        gone = np.arange(old.shape[0])[None, :] < leaving[:, None]  # [i, j]: old row j has left by row i
        out = np.full(s.shape, np.nan)
        with np.errstate(invalid="ignore"):
            ge_new = ((s[None, :, :] >= s[:, None, :]) & earlier[:, :, None]).sum(1)  # [i, c]: earlier block rows >= row i
            n_new = (np.isfinite(s)[None, :, :] & earlier[:, :, None]).sum(1)
            ge_gone = ((old[None, :, :] >= s[:, None, :]) & gone[:, :, None]).sum(1)
            n_gone = (np.isfinite(old)[None, :, :] & gone[:, :, None]).sum(1)
        for col in range(channels):
            pool = hist[:, col]
            pool = np.sort(pool[np.isfinite(pool)])
            scores = s[:, col]
            finite = np.isfinite(scores)
            if not finite.any():
                continue
            at_least = pool.size - np.searchsorted(pool, scores, side="left") - ge_gone[:, col] + ge_new[:, col]
            n = pool.size - n_gone[:, col] + n_new[:, col]
            tail = (at_least + 1) / (n + 1)
            scale = self._scale[col]
            if scale is not None:
                # Past the largest score in view, an exponential tail keeps extreme scores apart instead of all at
                # 1 / (n + 1).
                # The highest score in view of each row: the history's rows that have not left, and the block's
                # joining rows before it.
                column = np.where(np.isfinite(hist[:, col]), hist[:, col], -np.inf)
                suffix = np.concatenate([np.maximum.accumulate(column[::-1])[::-1], [-np.inf]])
                joined = np.where(finite & joins, scores, -np.inf)
                before = np.concatenate([[-np.inf], np.maximum.accumulate(joined)[:-1]])
                top = np.maximum(suffix[np.minimum(leaving, hist.shape[0])], before)
                beyond = finite & (at_least == 0) & np.isfinite(top)
                # (floored at 1e-300: past that every score is equally out of the question)
                tail[beyond] = np.exp(np.maximum(-(scores[beyond] - top[beyond]) / scale, -690.0)) / (n[beyond] + 1)
            out[finite, col] = tail[finite]
        return out


def _tail_scale(values: np.ndarray) -> float | None:
    """Scale of an exponential tail fitted from the median to the maximum of sorted `values` (None: too few)."""
    values = values[np.isfinite(values)]
    if values.size < 8:
        return None
    return max((values[-1] - values[values.size // 2]) / np.log(values.size / 2), 1e-12)


def surprise(tail: np.ndarray) -> np.ndarray:
    """-log10 of a tail probability: 3 is one in a thousand, on every channel alike."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return -np.log10(np.asarray(tail, np.float64))


IN_SAMPLE_POINTS = 256
"""Scores a model card keeps per channel of the rows it was trained on: at ranks from the largest spaced evenly on a
log scale, so every tail probability is resolved to the same relative precision (one in a thousand as finely as one
in two)."""


def _ranks(n: int, points: int) -> np.ndarray:
    """1-based ranks from the top (1: the largest) at which `in_sample_reference` keeps one of `n` scores."""
    if n <= points:
        return np.arange(1, n + 1, dtype=np.int64)
    return np.unique(np.round(np.geomspace(1, n, points)).astype(np.int64))


def in_sample_reference(scores: np.ndarray, points: int = IN_SAMPLE_POINTS) -> list[dict]:
    """Per column of `(rows, channels)` scores of the rows a model was trained on: `{"n", "points", "values"}`, the
    values at `_ranks(n, points)`, largest first."""
    out = []
    for col in range(scores.shape[1]):
        finite = np.sort(scores[np.isfinite(scores[:, col]), col])[::-1]
        out.append({"n": int(finite.size), "points": points, "values": [float(v) for v in finite[_ranks(finite.size, points) - 1]]})
    return out


TAIL_SHARE = 0.01
"""Past the top 1% of a range's scores (at least its top 20), `in_sample_tail` follows a fitted tail instead of the
scores' own ranks: an incident up to that many rows long does not set how rare it is."""


def power_tail(ratio: np.ndarray, exponent: float) -> np.ndarray:
    """`ratio ** -exponent` (a score's ratio to a threshold, 1 at it), floored at e^-690."""
    return np.exp(np.maximum(-exponent * np.log(ratio), -690.0))


def in_sample_tail(reference: dict, scores: np.ndarray) -> np.ndarray:
    """Tail probabilities of scores of rows whose own scores are `reference` (a model's training or validation rows).

    Such a score is in-sample: judging trained rows against new data's scores (the validation range, the recent
    history) calls ordinary rows rare wherever the validation range was quieter, or another season, and misses them
    where it was louder; and a validation row is among the validation scores that judge it. Here a score's tail is
    the share of the range's scores at least as high, the row among them (rank / n, interpolated between the kept
    ranks), down to the top `TAIL_SHARE`; past that score, a power-law tail through the scores at the top share and
    at twice it (tail ~ score^-a, a = ln 2 / ln(q1 / q2)): an incident in the range holds the top ranks itself, and by
    rank alone could never be rarer than 1 / n. The power law is exact for heavy-tailed scores (counts with bursts of
    chatter) and errs on the side of common for lighter ones, so a trained row is never called rarer than a power law
    through its range's top would, and does not outrank incidents judged among new rows for the tail's shape alone
    (docs/anomaly.md). NaN where the score is NaN or the reference is empty.
    """
    scores = np.asarray(scores, np.float64)
    out = np.full(scores.shape, np.nan)
    n, values = int(reference.get("n", 0)), np.asarray(reference.get("values", ()), np.float64)
    finite = np.isfinite(scores)
    if n == 0 or values.size == 0 or not finite.any():
        return out
    ranks = _ranks(n, int(reference.get("points", IN_SAMPLE_POINTS))).astype(np.float64)
    s = scores[finite]

    def value_at(rank: float) -> float:
        return float(np.interp(rank, ranks, values))

    # j: the last kept value at least as high as s (values fall as ranks rise); -1 when s is past the largest.
    j = np.searchsorted(-values, -s, side="right") - 1
    at_least = np.full(s.shape, 1.0)
    last = j == values.size - 1
    inner = (j >= 0) & ~last
    at_least[last] = ranks[-1]
    if inner.any():
        jj = j[inner]
        hi, lo = values[jj], values[jj + 1]
        frac = np.where(hi > lo, (hi - s[inner]) / np.where(hi > lo, hi - lo, 1.0), 0.0)
        # Between two kept ranks r1 < r2: scores above the lower value fill ranks up to r2 - 1.
        at_least[inner] = ranks[jj] + frac * np.maximum(0.0, ranks[jj + 1] - 1 - ranks[jj])
    tail = at_least / n
    top = max(TAIL_SHARE * n, 20.0)
    if 2 * top <= n / 2:  # enough scores below the threshold to say how the tail falls
        threshold, q2 = value_at(top), value_at(2 * top)
        past = s > threshold
        if q2 > 0 and threshold > q2 and past.any():
            tail[past] = (top / n) * power_tail(s[past] / threshold, np.log(2) / np.log(threshold / q2))
    out[finite] = tail
    return out
