"""K-Means distance: readings far from every cluster of (value, change) points (clustered over the window in view) are outliers.

Per sensor, each reading becomes a point (value, change from the previous
reading), both scaled by their robust spread; K-Means groups the points, and
a point whose distance to its nearest centre exceeds `threshold`
times the median such distance, or that falls in a cluster of a handful of
points, is an outlier. This is the clustering-based
cleaning of the original design; it catches jumps the rolling filters miss
when a sensor's level shifts often.
"""

from __future__ import annotations

import numpy as np

from pydantic import BaseModel, Field

from lepton_flow.cleaning import OBSERVED, OUTLIER, GridStep, register


class KMeansOptions(BaseModel):
    model_config = {"extra": "forbid"}

    clusters: int = Field(4, ge=1, le=64, description="Clusters of (value, change) points.")
    threshold: float = Field(8.0, gt=0, le=100, description="Distance to the nearest centre, in robust spreads, that makes an outlier.")


def _robust_scale(x: np.ndarray) -> float:
    mad = float(np.median(np.abs(x - np.median(x)))) * 1.4826
    return mad if mad > 0 else (float(np.std(x)) or 1.0)


def _lloyd(points: np.ndarray, k: int, iterations: int = 20) -> np.ndarray:
    """Centres by Lloyd's algorithm, started deterministically at quantiles of the first feature."""
    order = np.argsort(points[:, 0], kind="stable")
    picks = order[np.linspace(0, len(points) - 1, k).round().astype(int)]
    centres = points[picks].copy()
    for _ in range(iterations):
        dist = ((points[:, None, :] - centres[None, :, :]) ** 2).sum(-1)
        label = dist.argmin(1)
        moved = np.array([points[label == j].mean(0) if np.any(label == j) else centres[j] for j in range(k)])
        if np.allclose(moved, centres):
            break
        centres = moved
    return centres


def kmeans(values: np.ndarray, quality: np.ndarray, fresh: np.ndarray, options: KMeansOptions) -> tuple[np.ndarray, np.ndarray]:
    flagged = np.zeros(values.shape, bool)
    change = np.zeros(values.shape)
    change[1:] = values[1:] - values[:-1]
    for col in range(values.shape[1]):
        usable = (quality[:, col] == OBSERVED) & np.isfinite(values[:, col]) & np.isfinite(change[:, col])
        if usable.sum() < max(10, 3 * options.clusters):
            continue
        v, d = values[usable, col], change[usable, col]
        points = np.column_stack([(v - np.median(v)) / _robust_scale(v), (d - np.median(d)) / _robust_scale(d)])
        centres = _lloyd(points, min(options.clusters, len(points)))
        dist = np.sqrt(((points[:, None, :] - centres[None, :, :]) ** 2).sum(-1))
        label, nearest = dist.argmin(1), dist.min(1)
        typical = float(np.median(nearest)) or 1.0
        # Outliers far from the rest can take a centre of their own: a
        # cluster of a handful of points is made of outliers too.
        sizes = np.bincount(label, minlength=len(centres))
        tiny = sizes[label] < max(3, 0.005 * len(points))
        hit = np.zeros(values.shape[0], bool)
        hit[np.flatnonzero(usable)] = (nearest > options.threshold * typical) | tiny
        flagged[:, col] = hit
    flagged &= fresh
    return values.copy(), np.where(flagged, OUTLIER, quality).astype(np.uint8)


STEP = register(GridStep("kmeans", kmeans, halo=lambda o: 1, description=__doc__.splitlines()[0], local=False, options=KMeansOptions))
