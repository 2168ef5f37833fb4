"""`--engine dask`: the same SQL per partition, with DuckDB inside each Dask worker.

    run = DaskRun(policies, scheduler=None)     # None: a LocalCluster on this machine (127.0.0.1)
    for chunk in run.chunks(["cases/"]):        # chunks come back in input order
        ...

The input is split into partitions (a Parquet file's row groups, up to about a
million rows each; every other file whole); each worker reads its partitions
itself and decides them with its own `BulkRun`, so the data never passes through
the client on the way in. Results return in input order, a few partitions per
worker in flight.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from escalator.bulk.run import CHUNK_ROWS, BulkRun, Chunk, Summary, expand, flat_chunks, is_flat, json_chunks
from escalator.language.ir import CompiledPolicy
from escalator.operations.batch import STDIN


@dataclass(frozen=True)
class Partition:
    path: str
    row_groups: tuple[int, ...] | None = None  # Parquet: these row groups only
    offset: int = 0  # rows before the first of them


def partitions(paths: Iterable[str], rows: int = CHUNK_ROWS) -> Iterator[Partition]:
    for raw in expand(paths):
        if raw == STDIN:
            raise ValueError("--engine dask reads files, not stdin")
        if not raw.lower().endswith(".parquet"):
            yield Partition(raw)
            continue
        import pyarrow.parquet as pq

        meta = pq.ParquetFile(raw).metadata
        group: list[int] = []
        start = offset = 0
        for index in range(meta.num_row_groups):
            if not group:
                start = offset
            group.append(index)
            offset += meta.row_group(index).num_rows
            if offset - start >= rows:
                yield Partition(raw, tuple(group), start)
                group = []
        if group:
            yield Partition(raw, tuple(group), start)


_RUNS: dict[tuple[str, ...], BulkRun] = {}  # one BulkRun per policy set in each worker process


def decide_partition(policies: dict[str, CompiledPolicy], backend: str, render: str | None,
                     part: Partition) -> list[Chunk]:
    """Runs in a worker: read the partition and decide it (Chunk results are plain Arrow and dataclasses)."""
    key = tuple(sorted(p.digest or p.id for p in policies.values())) + (backend, str(render))
    run = _RUNS.get(key)
    if run is None:
        run = _RUNS[key] = BulkRun(policies, "duckdb", backend=backend, render=render)
    if is_flat(Path(part.path)):
        raws = flat_chunks(part.path, list(part.row_groups) if part.row_groups is not None else None, part.offset)
    else:
        raws = json_chunks([part.path])
    return [run.decide(raw) for raw in raws]


class DaskRun:
    """BulkRun's interface (chunks, outcomes, summary, actions) over a Dask cluster."""

    def __init__(self, policies: dict[str, CompiledPolicy], backend: str = "auto", render: str | None = "jsonl",
                 scheduler: str | None = None, workers: int = 2, in_flight: int = 2, partition_rows: int = CHUNK_ROWS):
        import distributed

        Client: Any = distributed.Client  # untyped in distributed
        LocalCluster: Any = distributed.LocalCluster

        self.policies, self.backend, self.render = policies, backend, render
        self.local = BulkRun(policies, "duckdb", backend=backend, render=render)  # composing, counting, notes
        self.summary: Summary = self.local.summary
        self.actions = self.local.actions
        self.in_flight = max(1, workers * in_flight)
        self.partition_rows = partition_rows
        self.cluster: Any = None
        self.client: Any
        if scheduler is None:
            self.cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                                        dashboard_address=None, silence_logs=40)
            self.client = Client(self.cluster)
        else:
            self.client = Client(scheduler)

    def chunks(self, paths: Iterable[str]) -> Iterator[Chunk]:
        started = time.perf_counter()
        client: Any = self.client
        policies = client.scatter(self.policies, broadcast=True)
        pending: deque[Any] = deque()
        try:
            for part in partitions(paths, self.partition_rows):
                pending.append(client.submit(decide_partition, policies, self.backend, self.render, part,
                                                  pure=False))
                if len(pending) >= self.in_flight:
                    yield from self._take(pending.popleft())
            while pending:
                yield from self._take(pending.popleft())
        finally:
            self.summary.seconds = time.perf_counter() - started

    def _take(self, future: Any) -> Iterator[Chunk]:
        for chunk in future.result():
            self.local.count(chunk)
            yield chunk

    def outcomes(self, chunk: Chunk) -> Iterator[Any]:
        return self.local.outcomes(chunk)

    def close(self) -> None:
        self.local.close()
        client: Any = self.client
        client.close()
        if self.cluster is not None:
            self.cluster.close()
