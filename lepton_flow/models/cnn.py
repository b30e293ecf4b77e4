"""The image classifier: three convolution and pooling blocks (32, 64, 128 filters), a dense layer of 128, a softmax.

Against overfitting, as options with defaults (`ImageParams`): batch
normalisation after each convolution, dropout around the dense layer, and
light augmentation of training images (shifts and zoom; mirroring where the
classes allow it), active only while training.
"""

from __future__ import annotations

KIND = "image-cnn"
INPUT = "images"


def build(image_size: int, channels: int, classes: int, dropout: float = 0.0, batch_norm: bool = False, augment: str = "none", seed: int = 0):
    from lepton_flow.gpu import import_keras

    keras = import_keras()

    if image_size < 8:
        raise ValueError(f"image size {image_size} is too small: three poolings need at least 8 pixels")
    layers = keras.layers
    inp = keras.Input((image_size, image_size, channels), name="image")
    x = inp
    if augment in ("shift", "shift-flip"):
        if augment == "shift-flip":
            x = layers.RandomFlip("horizontal", seed=seed)(x)
        x = layers.RandomTranslation(0.1, 0.1, fill_mode="constant", seed=seed)(x)
        x = layers.RandomZoom(0.1, fill_mode="constant", seed=seed)(x)
    for filters in (32, 64, 128):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=not batch_norm)(x)
        if batch_norm:
            x = layers.BatchNormalization(momentum=0.9)(x)  # Keras's 0.99 lags on small sets (few steps per epoch)
        x = layers.Activation("relu")(x)
        x = layers.MaxPooling2D()(x)
    x = layers.Flatten()(x)
    if dropout:
        x = layers.Dropout(dropout, seed=seed)(x)
    x = layers.Dense(128, activation="relu")(x)
    if dropout:
        x = layers.Dropout(dropout, seed=seed)(x)
    # float32 probabilities even under mixed precision.
    out = layers.Dense(classes, activation="softmax", dtype="float32", name="probabilities")(x)
    return keras.Model(inp, out, name="image_cnn")
