"""Benchmark of ``openscore synth``: 1 M people x 24 months (~100 M events) by default.

    .venv/bin/python benchmarks/synth.py [--people 1000000 --months 24 --workers 2]

Measures the wall time, events per second, CPU seconds and peak memory (the sum of the
resident sets of the run's processes, sampled every 0.1 s) of a full run; then, in the
same process, writes the same number of rows -- per source and per file, with the
event file schema, random values in every column the source uses -- with the same
Parquet writer and the same number of processes: the raw cost of getting those rows onto
disk, against which the generator's overhead is the ratio. Random values hardly
compress, so that baseline is slow; the script also times writing the generated files
themselves again (one process, reading untimed), the share of the run that is writing. Results go to
``benchmarks/results/synth.json`` and a line in ``docs/benchmarks.md`` (with ``--results``
elsewhere, only the file is written and the line printed). The machine's load average is
recorded too: on a shared machine other processes take their share of the cores.
"""

from __future__ import annotations

import argparse
import os
import resource
import shlex
import shutil
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import psutil
import pyarrow as pa

from openscore.domain.events import EVENT_TYPES
from openscore.eventfiles.columns import EVENT_FILE_SCHEMA
from openscore.eventfiles.writer import RowGroupWriter
from openscore.synth.params import RunOptions, parse_params
from openscore.synth.run import default_workers, generate

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import RESULTS, machine, save  # noqa: E402

POOL_ROWS = 262_144


class PeakMemory:
    """Peak of the summed RSS of this process and its children, sampled in a thread."""

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for p in [me, *me.children(recursive=True)]:
                try:
                    total += p.memory_info().rss
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


# The raw write ---------------------------------------------------------------------

_pools: dict[str, pa.Table] = {}


def _random_pool(source: str) -> pa.Table:
    """``POOL_ROWS`` rows of random values in every column ``source``'s types use."""
    rng = np.random.default_rng(abs(hash(source)) % 2**32)
    used = {"event_id", "type", "person_id", "source", "occurred_at"}
    for spec in EVENT_TYPES.values():
        if spec.source.value == source:
            used |= set(spec.columns)
    n = POOL_ROWS
    arrays = []
    for f in EVENT_FILE_SCHEMA:
        if f.name not in used:
            arrays.append(pa.nulls(n, f.type))
        elif pa.types.is_string(f.type):
            width = 17 if f.name.endswith("_id") else 8
            letters = rng.integers(97, 123, size=(n, width), dtype=np.uint8)
            offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
            arrays.append(
                pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(letters))
            )
        elif pa.types.is_timestamp(f.type):
            arrays.append(pa.array(rng.integers(1.5e15, 1.8e15, n), f.type))
        elif pa.types.is_date(f.type):
            arrays.append(pa.array(rng.integers(17_000, 20_000, n).astype(np.int32), f.type))
        elif pa.types.is_boolean(f.type):
            arrays.append(pa.array(rng.random(n) < 0.5))
        else:
            arrays.append(pa.array(rng.random(n) * 1000))
    return pa.Table.from_arrays(arrays, schema=EVENT_FILE_SCHEMA)


def _raw_write(task: tuple[str, int, str]) -> float:
    source, rows, path = task
    if source not in _pools:
        _pools[source] = _random_pool(source)
    pool = _pools[source]
    start = time.perf_counter()
    writer = RowGroupWriter(Path(path), EVENT_FILE_SCHEMA)
    left = rows
    while left:
        take = min(left, pool.num_rows)
        writer.write(pool.slice(0, take))
        left -= take
    writer.close()
    return time.perf_counter() - start


def raw_write(manifest: dict, out: Path, workers: int) -> tuple[float, float]:
    """Write random rows shaped like the synth's event files; (wall s, writer s)."""
    tasks = []
    for rel, info in manifest["files"].items():
        if rel.startswith("events/"):
            source = rel.split("/")[1]
            tasks.append((source, info["rows"], str(out / rel.replace("/", "_"))))
    out.mkdir(parents=True)
    start = time.perf_counter()
    if workers <= 1:
        writer_seconds = sum(_raw_write(t) for t in tasks)
    else:
        import multiprocessing

        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as p:
            writer_seconds = sum(p.map(_raw_write, tasks))
    return time.perf_counter() - start, writer_seconds


def rewrite(world: Path, scratch: Path) -> float:
    """CPU seconds to write the generated event files again (reading untimed): the part
    of the run that is Parquet writing of exactly these rows."""
    import pyarrow.parquet as pq

    scratch.mkdir(parents=True, exist_ok=True)
    seconds = 0.0
    for path in sorted((world / "events").rglob("*.parquet")):
        table = pq.read_table(path)
        start = time.process_time()
        writer = RowGroupWriter(scratch / "rewrite.parquet", EVENT_FILE_SCHEMA)
        writer.write(table)
        writer.close()
        seconds += time.process_time() - start
        del table
    (scratch / "rewrite.parquet").unlink(missing_ok=True)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--chunk-size", type=int, default=16_384)
    parser.add_argument("--work", type=Path, default=HERE / "work" / "synth")
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    parser.add_argument("--results", type=Path, default=RESULTS / "synth.json")
    args = parser.parse_args()

    shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True)
    params = parse_params(people=args.people, months=args.months, seed=args.seed)
    options = RunOptions(chunk_size=args.chunk_size, workers=args.workers)
    load_before = os.getloadavg()

    cpu0 = cpu_seconds()
    with PeakMemory() as memory:
        start = time.perf_counter()
        manifest = generate(params, args.work / "world", options)
        wall = time.perf_counter() - start
    cpu = cpu_seconds() - cpu0
    max_single_rss = max(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    )
    events = manifest["counts"]["events"]
    out_bytes = sum(p.stat().st_size for p in (args.work / "world").rglob("*") if p.is_file())

    rewrite_seconds = rewrite(args.work / "world", args.work / "rewrite")
    cpu0 = cpu_seconds()
    raw_wall, raw_writer = raw_write(manifest, args.work / "raw", args.workers)
    raw_cpu = cpu_seconds() - cpu0
    load_after = os.getloadavg()

    result = {
        "people": args.people,
        "months": args.months,
        "workers": args.workers,
        "chunk_size": args.chunk_size,
        "events": events,
        "events_by_source": manifest["counts"]["sources"],
        "wall_seconds": round(wall, 2),
        "events_per_second": round(events / wall),
        "cpu_seconds": round(cpu, 2),
        "events_per_cpu_second": round(events / cpu),
        "peak_rss_bytes": memory.peak,
        "peak_rss_gib": round(memory.peak / 2**30, 3),
        "max_single_process_rss_gib": round(max_single_rss / 2**20, 3),
        "output_bytes": out_bytes,
        "raw_write_wall_seconds": round(raw_wall, 2),
        "raw_write_writer_seconds": round(raw_writer, 2),
        "raw_write_cpu_seconds": round(raw_cpu, 2),
        "ratio_to_raw_write": round(wall / raw_wall, 2),
        "rewrite_same_rows_cpu_seconds": round(rewrite_seconds, 2),
        "write_share_of_cpu": round(rewrite_seconds / cpu, 3),
        "cpu_ratio_to_raw_write": round(cpu / raw_cpu, 2),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "machine": {
            **machine(),
            "cpus_available": default_workers(),
            "numpy": np.__version__,
            "pyarrow": pa.__version__,
            "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        },
    }
    command = shlex.join(["python", "benchmarks/synth.py", *sys.argv[1:]])
    default = args.results.resolve() == (RESULTS / "synth.json").resolve()
    save("synth", result, summary(result), command, path=args.results, doc=default)
    if not args.keep:
        shutil.rmtree(args.work, ignore_errors=True)


def summary(r: dict) -> str:
    """The docs/benchmarks.md line of a synth.json (also of one measured earlier)."""
    load = r["load_average_before"][0]
    return (
        f"{r['people']:,} people x {r['months']} months, {r['workers']} workers: "
        f"{r['events']:,} events in {r['wall_seconds']:,.0f} s = "
        f"{r['events_per_second']:,} ev/s ({r['events_per_cpu_second']:,} per CPU-s, "
        f"{r['cpu_seconds']:,.0f} CPU-s), peak {r['peak_rss_gib']:.2f} GiB all processes "
        f"({r['max_single_process_rss_gib']:.2f} GiB the largest), "
        f"{r['output_bytes'] / 1e9:.2f} GB written; {r['ratio_to_raw_write']}x a raw write of "
        f"as many random rows with the same writer and processes "
        f"({r['raw_write_wall_seconds']:,.0f} s; CPU {r['cpu_ratio_to_raw_write']}x); "
        f"Parquet writing {r['write_share_of_cpu'] * 100:.0f} % of the CPU; load average {load:.1f}"
        " at start"
    )


if __name__ == "__main__":
    main()
