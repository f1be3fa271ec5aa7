"""The model on the device: bundles and their manifests, the two interpreters (TFLite,
ONNX Runtime) behind one :class:`~harlite.runtime.model.protocol.Model` protocol, and the
choice between them (``--backend auto``).
"""
