"""The image classifier: three convolution and pooling blocks (32, 64, 128 filters), a dense layer of 128, a softmax."""

from __future__ import annotations

KIND = "image-cnn"
INPUT = "images"


def build(image_size: int, channels: int, classes: int):
    from lepton_flow.gpu import import_keras

    keras = import_keras()

    if image_size < 8:
        raise ValueError(f"image size {image_size} is too small: three poolings need at least 8 pixels")
    layers = keras.layers
    inp = keras.Input((image_size, image_size, channels), name="image")
    x = inp
    for filters in (32, 64, 128):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = layers.MaxPooling2D()(x)
    x = layers.Flatten()(x)
    x = layers.Dense(128, activation="relu")(x)
    # float32 probabilities even under mixed precision.
    out = layers.Dense(classes, activation="softmax", dtype="float32", name="probabilities")(x)
    return keras.Model(inp, out, name="image_cnn")
