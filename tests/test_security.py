"""Security of the model registry: Keras safe mode, and no name or version that leads out of the registry."""

from __future__ import annotations

import pytest

from lepton_flow.registry import CURRENT, ModelCard, Registry, RegistryError


def _card(name: str) -> ModelCard:
    return ModelCard(name=name, version="", kind="test", store_url="", snapshot_id="")


def test_a_model_that_would_run_code_on_load_is_refused(tmp_path):
    """A Lambda layer carries Python bytecode; safe mode refuses to deserialize it, naming the model and version."""
    import keras

    inputs = keras.Input((3,))
    outputs = keras.layers.Lambda(lambda x: x * 2)(inputs)
    registry = Registry(str(tmp_path / "models"))
    card = registry.save(keras.Model(inputs, outputs), _card("tampered"))
    registry.set_current("tampered", card.version)
    with pytest.raises(RegistryError, match=r"model 'tampered' version 1: refused to load .*Lambda"):
        registry.load_model("tampered")


def test_a_model_file_naming_classes_from_other_modules_is_refused_naming_the_file(tmp_path):
    """A .keras file whose config asks for `subprocess.Popen` as a layer: Keras raises a TypeError, the registry names the file."""
    import json
    import zipfile

    import keras

    inputs = keras.Input((3,))
    registry = Registry(str(tmp_path / "models"))
    card = registry.save(keras.Model(inputs, keras.layers.Dense(2)(inputs)), _card("edited"))
    path = tmp_path / "models" / "edited" / card.version / "model.keras"
    with zipfile.ZipFile(path) as z:
        files = {n: z.read(n) for n in z.namelist()}
    config = json.loads(files["config.json"])
    config["config"]["layers"][1].update(module="subprocess", class_name="Popen")
    files["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(path, "w") as z:
        for n, data in files.items():
            z.writestr(n, data)
    with pytest.raises(RegistryError, match=r"model 'edited' version 1: refused to load .*edited/1/model.keras"):
        registry.load_model("edited", card.version)


def test_names_and_versions_stay_inside_the_registry(tmp_path):
    root = tmp_path / "models"
    registry = Registry(str(root))
    (tmp_path / "outside" / "1").mkdir(parents=True)
    (tmp_path / "outside" / "1" / "card.json").write_text(_card("outside").model_dump_json())
    for name in ("../outside", "..", "a/b", "", "-x"):
        with pytest.raises(RegistryError, match="is not a model name or version"):
            registry.resolve(name)
    # A `current` file edited to point elsewhere is refused, not followed.
    (root / "m" / "1").mkdir(parents=True)
    (root / "m" / "1" / "card.json").write_text(_card("m").model_copy(update={"version": "1"}).model_dump_json())
    (root / "m" / CURRENT).write_text("../../outside/1\n")
    with pytest.raises(RegistryError, match="current version '../../outside/1' is not one of its versions"):
        registry.resolve("m")
    assert registry.resolve("m", "1") == "1"


def test_a_secret_block_with_a_bad_value_names_the_block_and_the_field_never_the_value():
    from lepton_flow.credentials import CredentialsError, parse_keys

    assert parse_keys("keys", '{"aws_access_key_id": "id", "aws_secret_access_key": "s3cr3t"}') == {"AWS_ACCESS_KEY_ID": "id", "AWS_SECRET_ACCESS_KEY": "s3cr3t"}
    for value, why in (("not json s3cr3t", "its value is not a JSON object"), (["s3cr3t"], "its value is not a JSON object"), ({"aws_access_key_id": "id", "secret": "s3cr3t"}, "missing aws_secret_access_key")):
        with pytest.raises(CredentialsError, match=f"Secret block 'keys': {why}") as err:
            parse_keys("keys", value)
        assert "s3cr3t" not in str(err.value)
