"""Measure the Keras model (``predict_on_batch``) and the frozen ``.pb`` (a TensorFlow
session) of a bundle, for comparison with the TFLite artefacts (needs TensorFlow; run in a
fresh process by :mod:`harlite.bench.worker`)."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from harlite.bench.measure import (
    BATCHES,
    batch_calls,
    peak_rss_mib,
    sample_windows,
    throughput_row,
    timed_calls,
)
from harlite.quiet import native_output_silenced
from harlite.runtime.model.bundle import Bundle


def measure(spec: dict[str, Any]) -> dict[str, Any]:
    """Load the artefact with TensorFlow at ``threads`` intra-op threads and time it."""
    started = time.perf_counter()
    with native_output_silenced():
        from harlite.train.tf_setup import tensorflow

        tf = tensorflow()
        tf.config.threading.set_intra_op_parallelism_threads(spec["threads"])
        tf.config.threading.set_inter_op_parallelism_threads(1)
    import_ms = (time.perf_counter() - started) * 1000
    bundle = Bundle.open(spec["bundle"])
    artifact = bundle.artifact(spec["artifact"])
    path = bundle.checked_file(artifact.name)
    windows = sample_windows(bundle)

    started = time.perf_counter()
    with native_output_silenced():
        if artifact.format == "keras":
            from harlite.train.models import load_model

            model = load_model(path)
            call = model.predict_on_batch
            batches = BATCHES
        else:
            from harlite.convert.freeze import FrozenGraphRunner

            runner = FrozenGraphRunner(
                path.read_bytes(), artifact.inputs[0]["name"], artifact.outputs[0]["name"]
            )
            session, output, feed = runner._session, runner._output, runner._input

            def call(x):
                return session.run(output, {feed: x})

            batches = (1,)  # the frozen graph has the static batch of 1 it was exported with
        load_ms = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        call(windows[:1])
        first_ms = (time.perf_counter() - started) * 1000
        timed_calls(call, [windows[:1]] * spec.get("warmup", 50))
        rows = []
        for batch in batches:
            data = np.resize(windows, (batch, *windows.shape[1:]))
            rows.append(throughput_row(batch, timed_calls(call, [data] * batch_calls(spec, batch))))
    return {
        "backend": f"tensorflow {tf.__version__}",
        "load_ms": round(load_ms, 3),
        "import_ms": round(import_ms, 3),
        "first_inference_ms": round(first_ms, 3),
        "peak_rss_mib": peak_rss_mib(),
        "rows": rows,
    }
