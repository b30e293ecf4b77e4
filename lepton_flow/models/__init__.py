"""Keras model builders and the windowing that feeds them.

`windows` is plain numpy (planning, normalisation, scoring arithmetic) and
imports no TensorFlow; `data` builds the `tf.data` pipelines and
`autoencoder` the Keras model, both importing TensorFlow when first used.
"""

MODEL_KINDS = {
    # kind -> module under lepton_flow.models with `build(window, channels, size)`
    "conv-autoencoder": "lepton_flow.models.autoencoder",
}
