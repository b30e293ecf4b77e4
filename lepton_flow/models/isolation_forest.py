"""Isolation forest, a baseline beside the autoencoder: scikit-learn's `IsolationForest` over each channel's windows.

Every window of one channel is a point (`points`: its extremes about
its median and its steps, in units of its spread); a forest of random trees is fitted by scikit-learn on a sample of
the training windows of all channels (normalisation puts them on one
scale). The fitted trees are then carried by a Keras layer as arrays and
walked inside the same traced scoring graph as every other kind, so the
model is saved, loaded (safe mode, no pickle), promoted, scored,
calibrated and evaluated like the others. The layer's "reconstruction" is
`z - sqrt(s * share)`, where `s` is scikit-learn's anomaly score of the
window (`-score_samples`, in (0, 1]; about 0.5 is ordinary, near 1 is
isolated at once) and `share` is each step's distance from the window's
median over the largest such distance: the masked squared error scoring
computes is then `s` at the step farthest out and less at the others, and
a step's error is the mean over the windows that cover it. (Spread evenly,
a spike's window score flagged the whole window around it: 2.4% of the
demo's points where the spikes are 0.1%. Flags judge the step's error; the
stored score may also take its windows' mean, `inference.smooth`.)

Train it under its own name, e.g. `--param model_kind=isolation-forest
--param model_name=forest-baseline`: a name's versions are promoted on
validation loss, which is not comparable across kinds.
"""

from __future__ import annotations

from lepton_flow.models import layer_model, saved_names

import math

import numpy as np

KIND = "isolation-forest"
INPUT = "windows"
TREES = 100
SAMPLES = 256  # points per tree: scikit-learn's default `max_samples`
NODES = 2 * SAMPLES - 1  # the most nodes a tree over SAMPLES points can have
DEPTH = math.ceil(math.log2(SAMPLES))  # scikit-learn's depth limit for that sample size
FIT_POINTS = 65536  # channel windows drawn from the training range to fit on

_LAYER: list = []


def average_path_length(n: np.ndarray | int) -> np.ndarray:
    """c(n): the mean path length of an unsuccessful search in a binary search tree of n points (as scikit-learn)."""
    n = np.asarray(n, dtype=np.float64)
    out = np.zeros_like(n)
    out[n == 2] = 1.0
    big = n > 2
    out[big] = 2.0 * (np.log(n[big] - 1.0) + np.euler_gamma) - 2.0 * (n[big] - 1.0) / n[big]
    return out


def tree_arrays(forest) -> dict[str, np.ndarray]:
    """A fitted `IsolationForest`'s trees as padded `(trees, NODES)` arrays the layer walks.

    Leaves point to themselves (a walk of DEPTH steps stays at the leaf it
    reached); `path` at a leaf is its depth plus c(points left there), the
    length scikit-learn's `score_samples` averages.
    """
    trees = len(forest.estimators_)
    if trees > TREES or forest._max_features != forest.n_features_in_:
        raise ValueError(f"the forest must hold at most {TREES} trees over all features")
    feature = np.zeros((TREES, NODES), np.float32)
    threshold = np.full((TREES, NODES), np.inf, np.float32)
    left = np.tile(np.arange(NODES, dtype=np.float32), (TREES, 1))
    right = left.copy()
    path = np.zeros((TREES, NODES), np.float32)
    for t, est in enumerate(forest.estimators_):
        tree = est.tree_
        n = tree.node_count
        if n > NODES:
            raise ValueError(f"a tree holds {n} nodes, more than {NODES}")
        depth = np.zeros(n, np.float64)
        for node in range(n):  # children always come after their parent
            for child in (tree.children_left[node], tree.children_right[node]):
                if child >= 0:
                    depth[child] = depth[node] + 1
        leaf = tree.children_left[:n] < 0
        own = np.arange(n)
        feature[t, :n] = np.where(leaf, 0, tree.feature[:n])
        threshold[t, :n] = np.where(leaf, np.inf, tree.threshold[:n])
        left[t, :n] = np.where(leaf, own, tree.children_left[:n])
        right[t, :n] = np.where(leaf, own, tree.children_right[:n])
        path[t, :n] = np.where(leaf, depth + average_path_length(tree.n_node_samples[:n]), 0.0)
    # Rows past the forest's own trees (a smaller forest) are lone leaves of path 0; the mean divides by `trees`.
    norm = float(average_path_length(forest._max_samples))
    return {
        "split_feature": feature,
        "split_value": threshold,
        "left_child": left,
        "right_child": right,
        "leaf_path": path,
        "tree_count": np.float32(trees),
        "path_norm": np.float32(norm),
    }


def layer_class():
    """The Keras layer, defined (and registered for loading) on first use: importing this module imports no Keras."""
    if _LAYER:
        return _LAYER[0]
    from lepton_flow.gpu import import_keras

    keras = import_keras()
    ops = keras.ops

    @keras.saving.register_keras_serializable(package="lepton_flow")
    class WindowIsolationForest(keras.layers.Layer):
        def __init__(self, channels: int, window: int, **kwargs):
            super().__init__(**kwargs)
            self.channels, self.window = channels, window
            self.trainable = False
            for name in ("split_feature", "split_value", "left_child", "right_child", "leaf_path"):
                setattr(self, name, self.add_weight(shape=(TREES, NODES), initializer="zeros", trainable=False, name=name))
            self.tree_count = self.add_weight(shape=(), initializer="ones", trainable=False, name="tree_count")
            self.path_norm = self.add_weight(shape=(), initializer="ones", trainable=False, name="path_norm")

        def set_forest(self, arrays: dict[str, np.ndarray]) -> None:
            for name, value in arrays.items():
                getattr(self, name).assign(value)

        def scores(self, points):
            """scikit-learn's anomaly score `-score_samples` of `points` `(n, features)`."""
            n = ops.shape(points)[0]
            offset = ops.arange(TREES, dtype="int32") * NODES
            flat = {k: ops.reshape(getattr(self, k), (-1,)) for k in ("split_feature", "split_value", "left_child", "right_child", "leaf_path")}
            node = ops.zeros((n, TREES), dtype="int32") + offset
            for _ in range(DEPTH):
                feature = ops.cast(ops.take(flat["split_feature"], node), "int32")
                go_left = ops.take_along_axis(points, feature, axis=1) <= ops.take(flat["split_value"], node)
                child = ops.where(go_left, ops.take(flat["left_child"], node), ops.take(flat["right_child"], node))
                node = ops.cast(child, "int32") + offset
            depth = ops.sum(ops.take(flat["leaf_path"], node), axis=1) / self.tree_count
            return ops.power(2.0, -depth / self.path_norm)

        def call(self, x):
            b, w, c = ops.shape(x)[0], ops.shape(x)[1], self.channels
            z_rows, m_rows = _rows(ops, x, c)
            points, median = window_points(ops, z_rows, m_rows)
            far = ops.abs(z_rows - median) * m_rows  # each step's distance from the window's median
            share = far / ops.maximum(ops.max(far, axis=1, keepdims=True), 1e-12)
            err = ops.reshape(self.scores(points)[:, None] * share, (b, c, w))
            return x[..., :c] - ops.sqrt(ops.transpose(err, (0, 2, 1)))

        def get_config(self):
            return {**super().get_config(), "channels": self.channels, "window": self.window}

    _LAYER.append(WindowIsolationForest)
    return WindowIsolationForest


def custom_objects() -> dict:
    """What loading a saved model of this kind needs (Keras's safe mode builds only registered classes)."""
    return saved_names(layer_class())


def build(window: int, channels: int, size: str = "small"):
    """An unfitted forest (`fit_windows` fits it); `size` is ignored."""
    return layer_model(layer_class(), window, channels, "isolation_forest", channels, window)


VALUE_QUANTILES = (0.0, 0.25, 0.5, 0.75, 1.0)
STEP_QUANTILES = (0.0, 0.5, 1.0)
FLOOR = 0.1  # the least spread (normalised units) features are measured in, as rolling-zscore's
UNSEEN = np.float32(3e38)  # missing values sort after every seen one


def _rows(ops, x, channels: int):
    """Model input `(windows, length, 2 * channels)` as values and mask, one row per (window, channel)."""
    w = ops.shape(x)[1]
    return tuple(ops.reshape(ops.transpose(part, (0, 2, 1)), (-1, w)) for part in (x[..., :channels], x[..., channels:]))


def _quantiles(ops, x, seen, levels: tuple[float, ...]):
    """Nearest-rank quantiles of each row's seen values (0 for a row with none)."""
    n = ops.sum(seen, axis=1, keepdims=True)
    ordered = ops.sort(ops.where(seen > 0, x, UNSEEN), axis=-1)  # the unseen sort last
    at = ops.cast(ops.round(ops.convert_to_tensor(levels, dtype="float32")[None, :] * ops.maximum(n - 1.0, 0.0)), "int32")
    return ops.where(n > 0, ops.take_along_axis(ordered, at, axis=1), 0.0)


def window_points(ops, z, seen):
    """Each row's point and median, from rows of values `z` and their mask `seen` (`_rows`): the row's lowest and
    highest observed value less its median, and its steps' lowest, median and highest (each value minus the one
    before, where both are observed), all in units of its spread (interquartile range, floored at FLOOR).

    Missing values take no part, so a gap does not make a window strange. Relative to the window's own median and
    spread, as a rolling z-score is: a level or a slope that the training range did not hold (a daily low in a
    short history, a slow drift) is not itself an anomaly; a spike or a jump is, wherever it happens. Few features,
    each an extreme of the window, so that what no training window had is split off in a few random cuts (a forest
    over a window's raw values rarely cuts at the one step holding a spike). The layer and `points` (what
    scikit-learn fits on) both call this, so they cannot differ."""
    v = _quantiles(ops, z, seen, VALUE_QUANTILES)
    steps = _quantiles(ops, z[:, 1:] - z[:, :-1], seen[:, 1:] * seen[:, :-1], STEP_QUANTILES)
    spread = ops.maximum(v[:, 3:4] - v[:, 1:2], FLOOR)
    median = v[:, 2:3]
    return ops.concatenate([(v[:, 0:1] - median) / spread, (v[:, 4:5] - median) / spread, steps / spread], axis=-1), median


def points(windows: np.ndarray) -> np.ndarray:
    """Model input `(windows, length, 2 * channels)` as one point per (window, channel) (`window_points`), as numpy."""
    from lepton_flow.gpu import import_keras

    ops = import_keras().ops
    return np.asarray(window_points(ops, *_rows(ops, windows, windows.shape[2] // 2))[0], dtype=np.float32)


def fit_windows(model, windows: np.ndarray, seed: int = 0):
    """Fit scikit-learn's forest on training windows (model input, as `make_windows` cuts them), load it into `model`
    and return it."""
    from sklearn.ensemble import IsolationForest

    x = points(windows)
    if len(x) > FIT_POINTS:
        x = x[np.random.default_rng(seed).choice(len(x), FIT_POINTS, replace=False)]
    forest = IsolationForest(n_estimators=TREES, max_samples=min(SAMPLES, len(x)), random_state=seed).fit(x)
    model.get_layer("reconstruction").set_forest(tree_arrays(forest))
    return forest
