"""Contracts every registered sensor format, log format and model kind must keep (cleaning steps: tests/test_cleaning.py).

They run over the whole registry, so an entry added as a module (or by
`lepton-flow new`) is checked by the same tests as the built-in ones.
"""

from __future__ import annotations

import os
from datetime import datetime

import numpy as np
import pytest

from lepton_flow.formats import formats
from lepton_flow.logs.formats import EVENT_FIELDS, log_formats
from lepton_flow.models import model_kinds
from lepton_flow.formats import read_readings
from lepton_flow.sources import READING_SCHEMA, SourceError


@pytest.mark.parametrize("name", sorted(formats()))
def test_every_sensor_format_reads_its_example_and_fails_cleanly(name, tmp_path):
    fmt = formats()[name]
    suffix = fmt.suffixes[0]
    good = tmp_path / f"example{suffix}"
    fmt.example(str(good))
    parsed = read_readings(str(good))
    assert parsed.table.schema.equals(READING_SCHEMA) and parsed.readings > 0 and not parsed.errors
    assert np.isfinite(parsed.table.column("value").to_numpy()).all()
    empty = tmp_path / f"empty{suffix}"
    empty.write_bytes(b"")
    try:
        assert read_readings(str(empty)).readings == 0
    except SourceError as exc:
        assert str(empty) in str(exc)
    garbage = tmp_path / f"garbage{suffix}"
    garbage.write_bytes(os.urandom(2048))
    try:
        parsed = read_readings(str(garbage))
        assert parsed.readings == 0
    except SourceError as exc:  # the only error a format may raise, and it names the file
        assert str(garbage) in str(exc)


@pytest.mark.parametrize("name", sorted(log_formats()))
def test_every_log_format_parses_its_examples_and_refuses_the_rest(name):
    fmt = log_formats()[name]
    assert fmt.examples, "a log format lists example lines"
    for line in fmt.examples:
        event = fmt.parse(line, 2026)
        assert event is not None and set(event) == set(EVENT_FIELDS), line
        if event["timestamp"] is None:  # a layout without a time: the reader dates it by the file
            assert fmt.timeless, line
        else:
            assert isinstance(event["timestamp"], datetime) and event["timestamp"].utcoffset() is not None
        assert isinstance(event["message"], str)
    for bad in ["", "\x00\xff\x1b[31m", "x" * 100_000]:
        assert fmt.parse(bad, 2026) is None
    assert fmt.detect(fmt.examples, 2026) == 1.0


@pytest.mark.parametrize("name", sorted(model_kinds("windows")))
def test_every_window_model_kind_maps_windows_to_reconstructions(name):
    model = model_kinds("windows")[name].build(16, 3, "tiny")
    assert model.output_shape == (None, 16, 3)
    x = np.zeros((5, 16, 6), np.float32)
    x[..., 3:] = 1.0
    before = x.copy()
    y = np.asarray(model(x, training=False))
    assert y.shape == (5, 16, 3) and y.dtype == np.float32 and np.isfinite(y).all()
    np.testing.assert_array_equal(x, before)
    from lepton_flow.models.inference import predict

    assert predict(model, np.zeros((0, 16, 6), np.float32), 32).shape == (0, 16, 3)  # the path scoring takes


@pytest.mark.parametrize("name", sorted(model_kinds("images")))
def test_every_image_model_kind_gives_class_probabilities(name):
    model = model_kinds("images")[name].build(16, 1, 4)
    p = np.asarray(model(np.random.default_rng(0).random((3, 16, 16, 1), dtype=np.float32), training=False))
    assert p.shape == (3, 4) and np.allclose(p.sum(axis=1), 1.0, atol=1e-5)
