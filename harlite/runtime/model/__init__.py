"""The model on the device: bundles and their manifests, the two interpreters (TFLite,
ONNX Runtime) on one base class, :class:`~harlite.runtime.model.base.Model`, and the
choice between them (``--backend auto``).
"""
