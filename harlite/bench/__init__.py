"""``harlite bench``: size, speed, memory and accuracy of every artefact of a bundle.

- :mod:`~harlite.bench.run` plans the measurements and gathers a :class:`BenchResult`;
- :mod:`~harlite.bench.worker` runs each in a fresh process;
- :mod:`~harlite.bench.measure` measures TFLite artefacts (runtime only) and
  :mod:`~harlite.bench.tensorflow` the Keras model and ``.pb`` (with TensorFlow);
- :mod:`~harlite.bench.report` renders tables, Markdown and the chart.
"""

from harlite.bench.results import BenchResult, BenchRow
from harlite.bench.run import benchmark_bundle

__all__ = ["BenchResult", "BenchRow", "benchmark_bundle"]
