"""``harlite bench``: size, speed, memory and accuracy of every artefact of a bundle.

- :mod:`~harlite.benchmark.run` plans the measurements and gathers a :class:`BenchResult`;
- :mod:`~harlite.benchmark.worker` runs each in a fresh process;
- :mod:`~harlite.benchmark.measure` measures TFLite artefacts (runtime only) and
  :mod:`~harlite.benchmark.tensorflow` the Keras model and ``.pb`` (with TensorFlow);
- :mod:`~harlite.benchmark.report` renders tables, Markdown and the chart.
"""

from harlite.benchmark.results import BenchResult, BenchRow
from harlite.benchmark.run import benchmark_bundle

__all__ = ["BenchResult", "BenchRow", "benchmark_bundle"]
