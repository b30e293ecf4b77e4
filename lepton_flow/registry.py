"""The model registry: `models/<name>/<version>/` holding the saved model and its card.

A version is a number counting up from 1. `models/<name>/current` names the
version that scoring uses by default. A new version becomes current only if
its validation loss is no worse than the current version's on the same
validation data (both measured by the training run); its card says why it was
or was not promoted. The registry lives under any fsspec URL (default
`<data_root>/models`); a model is saved to a local temporary file first,
since Keras writes only local files.
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
from datetime import UTC, datetime
from typing import Annotated, Any, NamedTuple

from pydantic import BaseModel, BeforeValidator, Field

MODEL_FILE = "model.keras"
CARD_FILE = "card.json"
CURRENT = "current"


_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def _version_text(value: object) -> object:
    # `--param version=3` reads 3 as JSON, and a form may send a number: both mean version "3".
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


ModelVersion = Annotated[str, BeforeValidator(_version_text), Field(description="Model version number, or 'current'.")]
"""A version field of a flow's parameters: a number (given as text or as a number) or 'current'."""


class RegistryError(LookupError):
    """A model or version the registry does not hold; the message lists what it does hold."""


class ModelCard(BaseModel):
    """Everything needed to reproduce a model and to judge it."""

    name: str
    version: str
    kind: str
    dataset: str = "sensors"
    created_at: str = Field(default_factory=lambda: datetime.now(UTC).isoformat())
    flow_run_id: str | None = None
    # Sensor models: the store snapshot, ranges and channels they read.
    store_url: str = ""
    snapshot_id: str = ""
    train_range: tuple[str, str] | None = None
    validation_range: tuple[str, str] | None = None
    sensors: list[str] = []
    metrics: list[str] = []
    window: int = 0
    stride: int = 0
    # Rows either side over which scoring averages the scores it stores (`inference.smooth`; flags judge each row's
    # own error). 0, cards from before: the stored score is the row's own.
    smoothing: int = 0
    # Half-widths (rows) of the wider averages the stored score also takes (`inference.stretch`). Empty, cards from
    # before: a window's average at most.
    wide_smoothing: list[int] = []
    # Image classifiers: the source directory, classes and input shape.
    source: str | None = None
    classes: list[str] = []
    image_size: int | None = None
    channels: int | None = None
    class_accuracy: dict[str, float | None] = {}
    suite: str | None = None
    parameters: dict[str, Any] = {}
    scores: dict[str, float | int | None] = {}
    history: dict[str, list[float]] = {}
    normalization: dict[str, list[float]] = {}
    threshold: float | None = None
    # Per sensor (in `sensors` order): validation-range scores, sorted, that calibrate the first scoring's flags.
    score_reference: list[list[float]] = []
    # Per sensor: the scores of the rows the model was trained on, and of its validation rows
    # (`calibration.in_sample_reference`), that judge those rows when they are scored: each range's rows against
    # their own. Empty (cards from before): they are judged as new rows.
    train_reference: list[dict] = []
    validation_reference: list[dict] = []
    libraries: dict[str, str] = {}
    device: str | None = None
    promoted: bool | None = None
    promotion_reason: str | None = None
    compared_with: str | None = None
    extra: dict[str, Any] = {}


class Registry:
    def __init__(self, url: str):
        import fsspec

        self.url = url.rstrip("/")
        self.fs, self.root = fsspec.core.url_to_fs(self.url)

    def _path(self, *parts: str) -> str:
        for part in parts:
            # Names and versions come from flow parameters and from the
            # `current` file: none may lead out of the registry.
            if not _PART.fullmatch(part or "") or part in (".", ".."):
                raise RegistryError(f"{part!r} is not a model name or version (letters, digits, '.', '_', '-'; at most 128)")
        return "/".join([self.root.rstrip("/"), *parts])

    def names(self) -> list[str]:
        if not self.fs.exists(self.root):
            return []
        return sorted(os.path.basename(p.rstrip("/")) for p in self.fs.ls(self.root, detail=False) if self.fs.isdir(p))

    def versions(self, name: str) -> list[str]:
        base = self._path(name)
        if not self.fs.exists(base):
            return []
        found = [os.path.basename(p.rstrip("/")) for p in self.fs.ls(base, detail=False)]
        return sorted((v for v in found if v.isdigit() and self.fs.exists(self._path(name, v, CARD_FILE))), key=int)

    def current(self, name: str) -> str | None:
        path = self._path(name, CURRENT)
        if not self.fs.exists(path):
            return None
        return self.fs.cat_file(path).decode().strip() or None

    def resolve(self, name: str, version: str = CURRENT) -> str:
        """A concrete version for `version` (a number or "current"), or a `RegistryError` saying what exists."""
        versions = self.versions(name)
        if not versions:
            known = ", ".join(self.names()) or "none"
            raise RegistryError(f"no model {name!r} in the registry at {self.url} (models: {known}); train one first")
        if version in ("", CURRENT, None):
            current = self.current(name)
            if current is None:
                raise RegistryError(f"model {name!r} has versions {', '.join(versions)} but none is current")
            if current not in versions:
                raise RegistryError(f"model {name!r}: its current version {current!r} is not one of its versions ({', '.join(versions)})")
            return current
        if version not in versions:
            raise RegistryError(f"model {name!r} has no version {version!r} (versions: {', '.join(versions)})")
        return version

    def card(self, name: str, version: str = CURRENT) -> ModelCard:
        version = self.resolve(name, version)
        return ModelCard.model_validate_json(self.fs.cat_file(self._path(name, version, CARD_FILE)))

    def save(self, model, card: ModelCard) -> ModelCard:
        """Save a model as a new version; fills `card.version` and returns the card."""
        self.fs.makedirs(self._path(card.name), exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            local = os.path.join(tmp, MODEL_FILE)
            model.save(local)
            while True:
                versions = self.versions(card.name)
                version = str(int(versions[-1]) + 1 if versions else 1)
                target = self._path(card.name, version)
                try:
                    # Claims the number: the first writer of a version's directory wins.
                    if self.fs.exists(target):
                        raise FileExistsError(target)
                    self.fs.makedirs(target, exist_ok=False)
                    break
                except FileExistsError:
                    continue
            self.fs.put_file(local, self._path(card.name, version, MODEL_FILE))
        card.version = version
        self.write_card(card)
        return card

    def _write_text(self, path: str, text: str) -> None:
        """Write a registry file whole or not at all: beside its place, then moved over it."""
        tmp = f"{path}.{os.getpid()}.tmp"
        with self.fs.open(tmp, "w") as fh:
            fh.write(text)
        self.fs.mv(tmp, path)

    def write_card(self, card: ModelCard) -> None:
        self._write_text(self._path(card.name, card.version, CARD_FILE), card.model_dump_json(indent=2))

    def set_current(self, name: str, version: str) -> None:
        self.resolve(name, version)
        self._write_text(self._path(name, CURRENT), version + "\n")

    def promote(self, name: str, version: str, new_loss: float, incompatible, current_loss_of, measure: Measure | None = None) -> ModelCard:
        """Decide whether `version` becomes current, record the decision in its card, and apply it.

        `incompatible(current_card, new_card)` says why the two cannot be
        compared (or None); `current_loss_of(current_model, current_card,
        new_card)` measures the current version on the new version's
        validation data, in the new version's terms. `measure` names what
        the two numbers are (validation loss, lower is better, unless told).
        """
        measure = measure or VALIDATION_LOSS
        card = self.card(name, version)
        current = self.current(name)
        current_loss = why_not = None
        if current is not None:
            old = self.card(name, current)
            why_not = incompatible(old, card)
            if why_not is None:
                current_loss = current_loss_of(self.load_model(name, current), old, card)
        card.promoted, card.promotion_reason = promotion(new_loss, current_loss, current, why_not, measure)
        card.compared_with = current
        card.scores[f"current_{measure.key}"] = current_loss
        if measure is not VALIDATION_LOSS:
            card.scores[measure.key] = new_loss
        self.write_card(card)
        if card.promoted:
            self.set_current(name, version)
        return card

    def load_model(self, name: str, version: str = CURRENT):
        """The Keras model of a version; loaded once per process and version."""
        version = self.resolve(name, version)
        key = (self.url, name, version)
        with _LOCK:
            if key not in _MODELS:
                from lepton_flow.gpu import import_keras

                keras = import_keras()

                with tempfile.TemporaryDirectory() as tmp:
                    local = os.path.join(tmp, MODEL_FILE)
                    self.fs.get_file(self._path(name, version, MODEL_FILE), local)
                    # Safe mode: a file that asks to run code on load (a Lambda
                    # layer's pickled function) is refused, whoever wrote it.
                    try:
                        _MODELS[key] = keras.saving.load_model(local, compile=False, safe_mode=True)
                    except (ValueError, TypeError, KeyError) as exc:
                        # Keras says TypeError for a config naming classes it will not build (a layer from `subprocess`, say).
                        where = self._path(name, version, MODEL_FILE)
                        raise RegistryError(f"model {name!r} version {version}: refused to load {where} ({str(exc).splitlines()[0][:300]})") from exc
            return _MODELS[key]


_MODELS: dict[tuple[str, str, str], Any] = {}
_LOCK = threading.Lock()


class Measure(NamedTuple):
    """What promotion compares: its words in the card's reason, its key in the card's scores, and its direction."""

    words: str
    key: str
    higher_is_better: bool = False


VALIDATION_LOSS = Measure("validation loss", "validation_loss")


def promotion(
    new_loss: float, current_loss: float | None, current_version: str | None, why_not_comparable: str | None = None, measure: Measure = VALIDATION_LOSS
) -> tuple[bool, str]:
    """Whether a new version becomes current, and the reason the card records."""
    if current_version is None:
        return True, "first version of this model"
    if why_not_comparable:
        return True, f"current version {current_version} cannot be compared ({why_not_comparable}); the new version takes over"
    if current_loss is None or not (current_loss == current_loss):
        return True, f"current version {current_version} gave no {measure.words} on this data"
    better = new_loss >= current_loss if measure.higher_is_better else new_loss <= current_loss
    words = "no worse than" if better else "worse than"
    return better, f"{measure.words} {new_loss:.6g} is {words} version {current_version}'s {current_loss:.6g} on the same data"
