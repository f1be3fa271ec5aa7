"""The results of ``harlite bench``: one :class:`BenchRow` per artefact × backend × threads ×
batch, gathered with the machine's matmul peak in a :class:`BenchResult`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class BenchRow:
    """One measured configuration.

    Latencies are per call of ``batch`` windows, in ms; ``windows_per_s`` is the throughput;
    ``load_ms``/``first_inference_ms``/``peak_rss_mib`` are those of the fresh process that
    measured it; ``macs`` per window come from the graph, ``gmacs_per_s`` from the
    throughput; ``val_accuracy``/``keras_agreement`` are the manifest's figures;
    ``floor_ratio`` is the batch-1 p50 over the plain C forward pass of the floor reference.
    """

    artifact: str
    format: str
    backend: str
    threads: int
    batch: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    mean_ms: float
    windows_per_s: float
    size_bytes: int
    load_ms: float
    first_inference_ms: float
    peak_rss_mib: float
    val_accuracy: float | None = None
    keras_agreement: float | None = None
    macs: int | None = None
    gmacs_per_s: float | None = None
    floor_ratio: float | None = None  #: batch-1 p50 over the plain C forward pass

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types (the ``--json`` row)."""
        return asdict(self)


@dataclass
class BenchResult:
    """Every row of one ``harlite bench`` run, with the dense-matmul peak per thread count
    (``peak["1"]["peak_gmacs"]``), the machine, and what could not be measured."""

    bundle: str
    date: str
    machine: dict[str, Any]
    rows: list[BenchRow] = field(default_factory=list)
    peak: dict[str, dict[str, Any]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    evaluation_note: str = ""  #: where the rows' val acc was measured (see Bundle)
    floor: dict[str, Any] = field(default_factory=dict)  #: FloorReference.to_dict()

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types (``bench.json``)."""
        return {
            "bundle": self.bundle,
            "date": self.date,
            "machine": self.machine,
            "rows": [row.to_dict() for row in self.rows],
            "peak": self.peak,
            "errors": self.errors,
            "evaluation_note": self.evaluation_note,
            "floor": self.floor,
        }

    def best_rows(self) -> dict[str, BenchRow]:
        """Per artefact, its fastest batch-1 row."""
        best: dict[str, BenchRow] = {}
        for row in self.rows:
            if row.batch != 1:
                continue
            if row.artifact not in best or row.p50_ms < best[row.artifact].p50_ms:
                best[row.artifact] = row
        return best

    def peak_gmacs(self, threads: int) -> float | None:
        """The dense-matmul peak measured at this thread count, if any."""
        return self.peak.get(str(threads), {}).get("peak_gmacs")
