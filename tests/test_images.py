"""The image classifier: checking files, class folders, the tf.data pipeline, and both flows on real digits."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from lepton_flow.images import ImageFile, check_image, dataset, scan, split
from lepton_flow.registry import Registry
from lepton_flow.settings import get_settings
from tests.helpers import fetched, run_log_text


def _png(mode="L", size=(8, 8), fmt="PNG") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size, 128).save(buf, format=fmt)
    return buf.getvalue()


def test_image_size_defaults_to_the_images_own_when_they_share_one(tmp_path):
    from lepton_flow.images import DEFAULT_IMAGE_SIZE, ImageParams

    for label in ("a", "b"):
        (tmp_path / "same" / label).mkdir(parents=True)
        (tmp_path / "same" / label / "1.png").write_bytes(_png(size=(28, 28)))
    assert scan(str(tmp_path / "same")).size == 28 and ImageParams().size_for(scan(str(tmp_path / "same"))) == 28
    assert ImageParams(image_size=40).size_for(scan(str(tmp_path / "same"))) == 40  # a size given wins
    (tmp_path / "same" / "b" / "2.png").write_bytes(_png(size=(30, 20)))  # one of another shape: the default
    assert scan(str(tmp_path / "same")).size is None and ImageParams().size_for(scan(str(tmp_path / "same"))) == DEFAULT_IMAGE_SIZE


def test_the_cnn_options_add_their_layers_and_augment_only_while_training():
    from lepton_flow.models.cnn import build

    plain = build(16, 1, 3)
    model = build(16, 1, 3, dropout=0.3, batch_norm=True, augment="shift-flip", seed=1)
    kinds = {type(layer).__name__ for layer in model.layers}
    assert {"Dropout", "BatchNormalization", "RandomFlip", "RandomTranslation", "RandomZoom"} <= kinds
    assert not {"Dropout", "BatchNormalization", "RandomFlip"} & {type(layer).__name__ for layer in plain.layers}
    x = np.random.default_rng(0).random((4, 16, 16, 1)).astype("float32")
    np.testing.assert_allclose(model(x, training=False), model(x, training=False))  # inference: no augmentation, no dropout
    assert not np.allclose(model(x, training=True), model(x, training=True))


def test_check_image_gives_a_reason_for_each_kind_of_bad_file():
    assert check_image(_png()) == (None, "L")
    assert check_image(b"")[0] == "empty file"
    assert check_image(b"just some text\n")[0].startswith("not an image")
    assert check_image(_png(size=(64, 64))[:-20])[0].startswith("corrupt image")
    assert "TIFF is not one of" in check_image(_png(fmt="TIFF"))[0]


def test_scan_reports_rejected_files_and_empty_class_folders(tmp_path):
    for cls in ("cat", "dog"):
        (tmp_path / cls).mkdir()
        (tmp_path / cls / "a.png").write_bytes(_png())
    (tmp_path / "dog" / "b.png").write_bytes(_png("RGB"))
    (tmp_path / "dog" / "readme.txt").write_text("not an image")
    (tmp_path / "bird").mkdir()
    found = scan(str(tmp_path))
    assert found.classes == ["cat", "dog"] and found.empty_classes == ["bird"]
    assert [(r.file.rsplit("/", 1)[-1], r.reason.split(" (")[0]) for r in found.rejected] == [("readme.txt", "not an image")]
    assert found.channels == 3  # one RGB image: all are read as RGB
    assert scan(str(tmp_path), "grayscale").channels == 1
    with pytest.raises(FileNotFoundError, match="nowhere"):
        scan(str(tmp_path / "nowhere"))


def test_split_is_stratified_and_stable():
    files = [ImageFile(url=f"/x/{c}/{i}.png", label=c) for c in "ab" for i in range(10)]
    train, val = split(files, 0.2, seed=1)
    assert sorted(f.label for f in val) == ["a", "a", "b", "b"] and len(train) == 16
    assert split(files, 0.2, seed=1) == (train, val) and split(files, 0.2, seed=2) != (train, val)


def test_dataset_decodes_resizes_and_scales(tmp_path):
    (tmp_path / "k").mkdir()
    Image.fromarray(np.full((8, 8), 255, np.uint8), mode="L").save(tmp_path / "k" / "white.png")
    ds = dataset([ImageFile(url=str(tmp_path / "k" / "white.png"), label="k")], ["j", "k"], 16, 1, 4)
    x, y = next(iter(ds))
    assert x.shape == (1, 16, 16, 1) and float(x.numpy().min()) == 1.0 and y.numpy().tolist() == [1]


@pytest.mark.slow
def test_digits_train_and_classify_a_held_out_fifth(prefect_server, data_root, served_files):
    from flows.classify_images import classify_images
    from flows.image_classifier import image_classifier
    from lepton_flow.demo import write_digits
    from lepton_flow.images import ClassifyParams, ImageParams
    from tests.test_models_flows import _artifacts, _table

    train_dir, held_dir = data_root / "digits", data_root / "held-out"
    counts = write_digits(str(train_dir), str(held_dir))
    assert counts[str(held_dir)] == 359  # a fifth of 1,797, stratified by class
    # The faults a real directory has: a corrupt image, a text file, an empty class folder.
    (train_dir / "5" / "broken.png").write_bytes(_png(size=(64, 64))[:-20])
    (train_dir / "3" / "notes.txt").write_text("scanned at 300 dpi")
    (train_dir / "unsorted").mkdir()

    trained = image_classifier(ImageParams(source=str(train_dir), image_size=16, epochs=20, patience=5), return_state=True)
    assert trained.is_completed(), trained.message
    logged = run_log_text(trained.state_details.flow_run_id)
    assert "epoch 1: loss " in logged and "validation accuracy " in logged  # a line per epoch
    text = trained.result()
    assert "broken.png: corrupt image" in text and "notes.txt: not an image" in text and "unsorted/: class folder without a usable image" in text
    registry = Registry(get_settings().models)
    card = registry.card("image-classifier")
    assert card.classes == [str(d) for d in range(10)] and card.image_size == 16 and card.channels == 1
    assert card.promoted and set(card.class_accuracy) == set(card.classes)
    arts = _artifacts(trained, ["image-train-metrics", "image-train-curves", "image-train-rejected", "image-train-summary"])
    assert "validation accuracy: " in arts["image-train-summary"].data and "promoted: yes" in arts["image-train-summary"].data
    assert {r["file"].rsplit("/", 1)[-1] or r["file"] for r in _table(arts["image-train-rejected"])} >= {"broken.png", "notes.txt"}
    assert fetched(arts["image-train-curves"].data)[:8] == b"\x89PNG\r\n\x1a\n"  # served as a file, not a data: URL

    classified = classify_images(ClassifyParams(source=str(held_dir)), return_state=True)
    assert classified.is_completed(), classified.message
    csv = next((data_root / "predictions").glob("image-classifier-1-*.csv"))
    predictions = pd.read_csv(csv, dtype={"class": str, "label": str})
    assert len(predictions) == 359
    truth = predictions["file"].str.rsplit("/", n=2).str[-2]
    accuracy = float((predictions["class"] == truth).mean())
    assert accuracy >= 0.95, accuracy
    arts = _artifacts(classified, ["classify-predictions", "classify-confusion"])
    assert fetched(arts["classify-confusion"].data)[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(_table(arts["classify-predictions"])) == 359

    # A barely trained version on the same images is worse: not promoted.
    worse = image_classifier(ImageParams(source=str(train_dir), image_size=16, epochs=1, learning_rate=1e-5), return_state=True)
    assert worse.is_completed(), worse.message
    card2 = registry.card("image-classifier", "2")
    assert card2.promoted is False and registry.current("image-classifier") == "1" and "worse than version 1" in card2.promotion_reason


def test_an_empty_or_missing_source_ends_the_run_failed_in_one_line(prefect_server, data_root):
    """The form may send an empty source (the schema does not require it: Prefect's form, once refused a required
    field, sent nothing on the next Submit); the flows refuse it, and a folder that does not exist, in one line."""
    from flows.classify_images import classify_images
    from flows.image_classifier import image_classifier
    from lepton_flow.images import ClassifyParams, ImageParams

    empty = image_classifier(ImageParams(), return_state=True)
    assert empty.is_failed() and empty.message == "source: empty; give a directory with one folder per class (a path or fsspec URL)", empty.message
    missing = classify_images(ClassifyParams(source=str(data_root / "nowhere")), return_state=True)
    assert missing.is_failed() and missing.message.endswith("nowhere: no such file or directory; give a directory of images"), missing.message
    assert "Traceback" not in run_log_text(missing.state_details.flow_run_id)


def test_one_usable_class_is_refused_with_what_was_found(data_root):
    from lepton_flow.images import ImageParams, fit

    (data_root / "only").mkdir()
    (data_root / "only" / "a.png").write_bytes(_png())
    with pytest.raises(ValueError, match="1 class folder.*only.*at least 2"):
        fit(ImageParams(source=str(data_root)), scan(str(data_root)), "t", None)


def test_image_sources_only_under_the_configured_roots(tmp_path, monkeypatch):
    from lepton_flow.settings import get_settings
    from lepton_flow.sources import SourceError

    allowed, outside = tmp_path / "images", tmp_path / "elsewhere"
    (allowed / "cat").mkdir(parents=True)
    outside.mkdir()
    (allowed / "cat" / "a.png").write_bytes(_png())
    (outside / "b.png").write_bytes(_png())
    (allowed / "cat" / "b.png").symlink_to(outside / "b.png")
    monkeypatch.setenv("LEPTON_SOURCE_ROOTS", str(allowed))
    get_settings(fresh=True)
    try:
        found = scan(str(allowed))
        assert [f.url.rsplit("/", 1)[-1] for f in found.files] == ["a.png"]
        assert [(r.file.rsplit("/", 1)[-1], r.reason) for r in found.rejected] == [("b.png", "resolves outside the allowed source roots")]
        with pytest.raises(SourceError, match="outside the allowed source roots"):
            scan(str(allowed / ".." / "elsewhere"))
    finally:
        monkeypatch.delenv("LEPTON_SOURCE_ROOTS")
        get_settings(fresh=True)
