"""The image classifier's data path: scan a directory of class folders, quarantine what is not an image, stream the rest through `tf.data`.

A source is any fsspec URL holding one folder per class (`<source>/<class>/<file>`).
Every file is checked before training (Pillow opens and verifies it): an
empty file, a file that is not an image, or an image in a format TensorFlow
cannot decode is reported with its reason and left out; a class folder with
no usable image is reported and is not a class. TensorFlow is imported only
when a dataset is built.
"""

from __future__ import annotations

import hashlib
import io
import posixpath
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from lepton_flow.forms import field_order
from lepton_flow.registry import CURRENT, ModelVersion

DECODABLE = {"PNG", "JPEG", "GIF", "BMP"}  # what tf.io.decode_image reads
GRAY_MODES = {"1", "L", "LA", "I", "I;16", "F"}
DEFAULT_MODEL = "image-classifier"
DEFAULT_IMAGE_SIZE = 64


class ImageFile(BaseModel):
    url: str
    label: str | None = None


class RejectedFile(BaseModel):
    file: str
    reason: str


class ImageSet(BaseModel):
    """What a scan found: usable images (with their class folder), rejected files and empty class folders."""

    source: str
    classes: list[str]
    files: list[ImageFile]
    rejected: list[RejectedFile] = []
    empty_classes: list[str] = []
    channels: int = 3
    size: int | None = None  # the images' side when every usable image is square of that side, else None


CLASS_FOLDERS = "a directory with one folder per class"
IMAGES = "a directory of images"


def _fs(source: str):
    import fsspec

    fs, root = fsspec.core.url_to_fs(source)
    if not fs.exists(root) or not fs.isdir(root):
        raise FileNotFoundError(f"image source {source} is not a directory")
    return fs, root.rstrip("/")


def _url(fs, path: str) -> str:
    protocol = fs.protocol[0] if isinstance(fs.protocol, (tuple, list)) else fs.protocol
    return path if protocol in ("file", "local") else f"{protocol}://{path}"


def check_image(data: bytes) -> tuple[str | None, str | None]:
    """(reason it cannot be used, or None; its Pillow mode)."""
    reason, mode, _ = inspect_image(data)
    return reason, mode


def inspect_image(data: bytes) -> tuple[str | None, str | None, tuple[int, int] | None]:
    """(reason it cannot be used, or None; its Pillow mode; its (width, height))."""
    from PIL import Image, UnidentifiedImageError

    if not data:
        return "empty file", None, None
    try:
        with Image.open(io.BytesIO(data)) as img:
            fmt, mode, size = img.format, img.mode, img.size
            img.verify()
    except UnidentifiedImageError:
        return "not an image (no known image format)", None, None
    except Exception as exc:  # truncated or corrupt data: Pillow's message says where
        return f"corrupt image: {exc}", None, None
    if fmt not in DECODABLE:
        return f"image format {fmt} is not one of {', '.join(sorted(DECODABLE))}", mode, size
    return None, mode, size


def scan(source: str, color: Literal["auto", "grayscale", "rgb"] = "auto") -> ImageSet:
    """Every file under `source`, checked; class = its first folder under `source` (None for files at the top).

    The source and each file must lie under `LEPTON_SOURCE_ROOTS` when it is set (a file whose symlink
    points out is rejected with that reason).
    """
    from lepton_flow.settings import get_settings
    from lepton_flow.sources import SourceError, under_roots

    roots = get_settings().allowed_roots
    if not under_roots(source, roots):
        raise SourceError(f"{source}: outside the allowed source roots ({', '.join(roots)}); LEPTON_SOURCE_ROOTS sets them")
    fs, root = _fs(source)
    folders = sorted(posixpath.basename(p.rstrip("/")) for p in fs.ls(root, detail=False) if fs.isdir(p))
    files, rejected, modes, sizes = [], [], set(), set()
    for path in sorted(fs.find(root, withdirs=False)):
        rel = path[len(root) + 1 :]
        label = rel.split("/", 1)[0] if "/" in rel else None
        if not under_roots(_url(fs, path), roots):
            rejected.append(RejectedFile(file=_url(fs, path), reason="resolves outside the allowed source roots"))
            continue
        reason, mode, size = inspect_image(fs.cat_file(path))
        if reason:
            rejected.append(RejectedFile(file=_url(fs, path), reason=reason))
            continue
        modes.add(mode)
        sizes.add(size)
        files.append(ImageFile(url=_url(fs, path), label=label))
    used = {f.label for f in files}
    if color == "auto":
        channels = 1 if modes and modes <= GRAY_MODES else 3
    else:
        channels = 1 if color == "grayscale" else 3
    return ImageSet(
        source=source,
        classes=[c for c in folders if c in used],
        files=files,
        rejected=rejected,
        empty_classes=[c for c in folders if c not in used],
        channels=channels,
        size=next(iter(sizes))[0] if len(sizes) == 1 and next(iter(sizes))[0] == next(iter(sizes))[1] else None,
    )


def split(files: list[ImageFile], share: float, seed: int) -> tuple[list[ImageFile], list[ImageFile]]:
    """Training and validation files, stratified by class and stable for a given seed."""
    train, val = [], []
    by_class: dict[str | None, list[ImageFile]] = {}
    for f in files:
        by_class.setdefault(f.label, []).append(f)
    for members in by_class.values():
        members = sorted(members, key=lambda f: hashlib.sha256(f"{seed}:{f.url}".encode()).hexdigest())
        k = int(round(len(members) * share)) if len(members) > 1 else 0
        k = max(k, 1) if len(members) > 1 else 0
        val += members[:k]
        train += members[k:]
    return train, val


def dataset(files: list[ImageFile], classes: list[str], size: int, channels: int, batch_size: int, shuffle: bool = False, seed: int = 0, cache: bool = True):
    """Batches of `(images in [0, 1], class index)`: read, decode, resize, scale in parallel; cached after the first pass; prefetched."""
    from lepton_flow.gpu import import_tensorflow

    tf = import_tensorflow()
    index = {c: i for i, c in enumerate(classes)}
    labels = np.array([index.get(f.label, -1) for f in files], np.int32)
    urls = [f.url for f in files]
    local = all("://" not in u for u in urls)

    def read_remote(url):
        import fsspec

        with fsspec.open(url.decode(), "rb") as fh:
            return fh.read()

    def load(url, label):
        data = tf.io.read_file(url) if local else tf.numpy_function(read_remote, [url], tf.string, stateful=False)
        img = tf.io.decode_image(data, channels=channels, expand_animations=False)
        img = tf.image.resize(img, (size, size))
        return tf.cast(img, tf.float32) / 255.0, label

    ds = tf.data.Dataset.from_tensor_slices((urls, labels)).map(load, num_parallel_calls=tf.data.AUTOTUNE)
    if cache:
        ds = ds.cache()
    if shuffle:
        ds = ds.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


class ImageParams(BaseModel):
    """Parameters of `image_classifier`."""

    model_config = {"json_schema_extra": field_order()}  # the form lists fields as declared here

    # Not required by the schema: Prefect's form, refused a required field once, sent nothing on the next Submit. An empty
    # source is refused by the flow (and by the CLI before it starts), in one line.
    source: str = Field("", max_length=2048, description="Directory with one folder per class (path or fsspec URL). Required.")
    model_name: str = Field(DEFAULT_MODEL, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", description="Registry name of the model.")
    image_size: int | None = Field(
        None, ge=8, le=1024, description=f"Images are resized to this many pixels square. Empty: the images' own side when they are all square of one size (at least 8), else {DEFAULT_IMAGE_SIZE}."
    )
    color: Literal["auto", "grayscale", "rgb"] = Field("auto", description="auto: grayscale if every image is, else RGB.")
    validation_share: float = Field(0.2, gt=0, lt=1, description="Share of each class's images held out to validate on.")
    epochs: int = Field(10, ge=1, le=1000, description="Most passes over the training images (early stopping may end sooner).")
    batch_size: int = Field(32, ge=1, le=4096, description="Images per training step.")
    learning_rate: float = Field(1e-3, gt=0, le=1, description="Adam's learning rate.")
    patience: int = Field(3, ge=1, le=100, description="Epochs without a better validation loss before stopping.")
    seed: int = Field(0, ge=0, description="Seed of the split, the weights and the shuffling: the same seed, the same model.")
    dropout: float = Field(0.3, ge=0, lt=1, description="Share of the dense layer's inputs and outputs dropped while training (0: none); against overfitting.")
    batch_norm: bool = Field(True, description="Batch normalisation after each convolution: steadier, often better training.")
    augment: Literal["none", "shift", "shift-flip"] = Field(
        "shift", description="Random changes to training images each epoch: shift (up to 10% each way, and 10% zoom), shift-flip (also mirrored left-right: not for digits or text)."
    )

    def size_for(self, images: "ImageSet") -> int:
        """The side images are resized to: `image_size`, else the images' own when they share one square size, else the default."""
        if self.image_size:
            return self.image_size
        return images.size if images.size and images.size >= 8 else DEFAULT_IMAGE_SIZE


class ImageTrainResult(BaseModel):
    name: str
    version: str
    validation_loss: float
    validation_accuracy: float
    epochs_run: int
    rejected: list[RejectedFile] = []
    empty_classes: list[str] = []
    promoted: bool | None = None
    reason: str | None = None
    card_url: str


def _evaluate(model, ds, classes: int) -> tuple[float, np.ndarray, np.ndarray]:
    """Mean cross-entropy, true labels and predicted probabilities over a dataset."""
    from lepton_flow.models.inference import predict

    ys, ps = [], []
    for x, y in ds:
        ps.append(predict(model, x.numpy(), 4096))
        ys.append(y.numpy())
    y, p = np.concatenate(ys), np.concatenate(ps)
    loss = float(-np.mean(np.log(np.clip(p[np.arange(len(y)), y], 1e-7, 1.0))))
    return loss, y, p


def fit(params: ImageParams, images: ImageSet, run_id: str, log, settings=None) -> ImageTrainResult:
    """Train a CNN on the scanned images and save it as a registry version (not yet current)."""
    from lepton_flow.gpu import import_keras

    keras = import_keras()

    from lepton_flow import gpu
    from lepton_flow.models.cnn import build
    from lepton_flow.registry import ModelCard, Registry
    from lepton_flow.settings import get_settings, join
    from lepton_flow.training import _EpochLog, _libraries, keras_callbacks

    settings = settings or get_settings()
    if len(images.classes) < 2:
        raise ValueError(f"{images.source} holds usable images in {len(images.classes)} class folder(s) ({', '.join(images.classes) or 'none'}); a classifier needs at least 2")
    labelled = [f for f in images.files if f.label in images.classes]
    train, val = split(labelled, params.validation_share, params.seed)
    device = gpu.configure()
    log.info("training on %s: %d images for training, %d for validation, %d classes, %d rejected", device.label, len(train), len(val), len(images.classes), len(images.rejected))
    keras.utils.set_random_seed(params.seed)
    size = params.size_for(images)
    log.info("images resized to %d x %d; dropout %g, batch normalisation %s, augmentation %s", size, size, params.dropout, "on" if params.batch_norm else "off", params.augment)
    train_ds = dataset(train, images.classes, size, images.channels, params.batch_size, shuffle=True, seed=params.seed)
    val_ds = dataset(val, images.classes, size, images.channels, params.batch_size)
    with gpu.strategy().scope():
        model = build(size, images.channels, len(images.classes), dropout=params.dropout, batch_norm=params.batch_norm, augment=params.augment, seed=params.seed)
        model.compile(optimizer=keras.optimizers.Adam(params.learning_rate), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    key = hashlib.sha256((params.model_dump_json(exclude={"epochs"}) + "".join(f.url for f in train)).encode()).hexdigest()[:16]
    callbacks = keras_callbacks(params.model_name, key, params.patience, settings, log) + [_EpochLog(log)]  # a log line per epoch
    history = model.fit(train_ds, validation_data=val_ds, epochs=params.epochs, callbacks=callbacks, shuffle=False, verbose=0)
    loss, y, p = _evaluate(model, val_ds, len(images.classes))
    pred = p.argmax(axis=1)
    accuracy = float((pred == y).mean())
    per_class = {c: (float((pred[y == i] == i).mean()) if (y == i).any() else None) for i, c in enumerate(images.classes)}
    hist = {k: [float(v) for v in vals] for k, vals in history.history.items()}
    card = ModelCard(
        name=params.model_name,
        version="pending",
        kind="image-cnn",
        flow_run_id=run_id,
        source=images.source,
        classes=images.classes,
        image_size=size,
        channels=images.channels,
        class_accuracy=per_class,
        parameters=params.model_dump(mode="json"),
        scores={"validation_loss": loss, "validation_accuracy": accuracy, "epochs_run": len(hist.get("loss", [])), "train_images": len(train), "validation_images": len(val), "rejected_files": len(images.rejected)},
        history=hist,
        libraries=_libraries(device),
        device=device.label,
        extra={"validation_files": [[f.url, f.label] for f in val], "empty_classes": images.empty_classes},
    )
    card = Registry(settings.models).save(model, card)
    log.info("saved %s version %s: validation accuracy %.4f, loss %.4f", card.name, card.version, accuracy, loss)
    return ImageTrainResult(
        name=card.name, version=card.version, validation_loss=loss, validation_accuracy=accuracy, epochs_run=int(card.scores["epochs_run"]),
        rejected=images.rejected, empty_classes=images.empty_classes, card_url=join(settings.models, card.name, card.version, "card.json"),
    )


def promote(result: ImageTrainResult, log, settings=None) -> ImageTrainResult:
    """Make the new version current if its validation loss is no worse than the current one's on the same validation images."""
    from lepton_flow.registry import Registry
    from lepton_flow.settings import get_settings

    settings = settings or get_settings()

    def incompatible(old, new) -> str | None:
        same = (old.classes, old.image_size, old.channels) == (new.classes, new.image_size, new.channels)
        return None if same else "it has other classes, image size or colour channels"

    def current_loss(model, old, new) -> float:
        val = [ImageFile(url=u, label=label) for u, label in new.extra["validation_files"]]
        return _evaluate(model, dataset(val, new.classes, new.image_size, new.channels, 256, cache=False), len(new.classes))[0]

    card = Registry(settings.models).promote(result.name, result.version, result.validation_loss, incompatible, current_loss)
    log.info("%s version %s %s: %s", result.name, result.version, "is now current" if card.promoted else "not promoted", card.promotion_reason)
    return result.model_copy(update={"promoted": card.promoted, "reason": card.promotion_reason})


class ClassifyParams(BaseModel):
    """Parameters of `classify_images`."""

    model_config = {"json_schema_extra": field_order()}  # the form lists fields as declared here

    source: str = Field("", max_length=2048, description="Directory of images; files in folders named after the model's classes count as labelled. Required.")
    model_name: str = Field(DEFAULT_MODEL, description="Registry name of the model.")
    version: ModelVersion = CURRENT
    batch_size: int = Field(256, ge=1, le=65536, description="Images per inference batch.")


class ClassifyResult(BaseModel):
    model_name: str
    version: str
    classes: list[str]
    images: int
    predictions_url: str
    rows: list[dict] = []  # the first rows, for the artifact; all are in predictions_url
    labelled: int = 0
    accuracy: float | None = None
    confusion: list[list[int]] | None = None
    rejected: list[RejectedFile] = []


def classify(params: ClassifyParams, run_id: str, log, settings=None, shown: int = 1000) -> ClassifyResult:
    """Predict every usable image under the source; labelled ones (in class folders) give accuracy and a confusion matrix."""
    import pandas as pd

    from lepton_flow import gpu
    from lepton_flow.registry import Registry
    from lepton_flow.settings import get_settings, join
    from lepton_flow.sources import open_output

    settings = settings or get_settings()
    registry = Registry(settings.models)
    version = registry.resolve(params.model_name, params.version)
    card = registry.card(params.model_name, version)
    images = scan(params.source, "grayscale" if card.channels == 1 else "rgb")
    if not images.files:
        raise ValueError(f"{params.source} holds no usable image ({len(images.rejected)} rejected)")
    device = gpu.configure()
    log.info("classifying %d images with %s version %s on %s", len(images.files), params.model_name, version, device.label)
    model = registry.load_model(params.model_name, version)
    ds = dataset(images.files, card.classes, card.image_size, card.channels, params.batch_size, cache=False)
    _, y, p = _evaluate(model, ds, len(card.classes))
    pred = p.argmax(axis=1)
    frame = pd.DataFrame(
        {
            "file": [f.url for f in images.files],
            "class": [card.classes[i] for i in pred],
            "confidence": p.max(axis=1).round(4),
            "label": [f.label if f.label in card.classes else None for f in images.files],
        }
    )
    url = join(settings.data_root, "predictions", f"{params.model_name}-{version}-{run_id}.csv")
    with open_output(url, "w") as fh:
        frame.to_csv(fh, index=False)
    known = y >= 0
    confusion = None
    accuracy = None
    if known.any():
        k = len(card.classes)
        confusion = np.bincount(y[known] * k + pred[known], minlength=k * k).reshape(k, k).tolist()
        accuracy = float((pred[known] == y[known]).mean())
    return ClassifyResult(
        model_name=params.model_name, version=version, classes=card.classes, images=len(frame), predictions_url=url,
        rows=frame.head(shown).where(frame.notna(), None).to_dict("records"), labelled=int(known.sum()), accuracy=accuracy, confusion=confusion, rejected=images.rejected,
    )
