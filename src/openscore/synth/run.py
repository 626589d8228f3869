"""A run of the generator: plan the file groups, run them (in worker processes), write the rest.

People are split into *file groups* of whole blocks, sized so that a group's wallet file
holds about three million rows. Each group is made by one worker, chunk by chunk, and
written to its own ``part-<group>.parquet`` in every source directory -- so the output
does not depend on the number of workers or the chunk size, only on the parameters.
The people and outcome rows of each group are staged and merged into single files at
the end, then the manifest is written and the staging directory moved into place.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc

from openscore.domain.events import EVENT_TYPES
from openscore.eventfiles.columns import EVENT_FILE_SCHEMA, fixed_strings
from openscore.eventfiles.writer import RowGroupWriter, Staging, sha256_file
from openscore.geo.cities import load_cities
from openscore.synth.chunk import Chunk, interleave_blocks
from openscore.synth.events.credit import credit_events
from openscore.synth.events.profile import profile_events
from openscore.synth.events.public_records import public_record_events
from openscore.synth.events.rentals import rental_events
from openscore.synth.events.social import social_events
from openscore.synth.events.wallet import wallet_events
from openscore.synth.params import RunOptions, SynthParams
from openscore.synth.streams import BLOCK, Streams
from openscore.synth.timeline import Timeline
from openscore.synth.world import (
    OUTCOMES_SCHEMA,
    PEOPLE_SCHEMA,
    World,
    make_people,
    people_table,
)

FORMAT = "openscore-synth/1"
SOURCES = ("wallet", "credit", "rentals", "profile", "social", "public_records")
#: rows aimed at per wallet file (the largest source)
WALLET_ROWS_PER_FILE = 3_000_000

Progress = Callable[[int], None]


@dataclass(frozen=True)
class Plan:
    world: World
    group_blocks: int
    chunk_blocks: int

    @property
    def n_groups(self) -> int:
        return -(-self.world.n_blocks // self.group_blocks)

    def group_range(self, g: int) -> tuple[int, int]:
        first = g * self.group_blocks
        return first, min(first + self.group_blocks, self.world.n_blocks)


def make_plan(params: SynthParams, options: RunOptions) -> Plan:
    """Validate what needs the outside world (the country) and fix the layout."""
    world = World.build(params, load_cities(params.country))
    wallet_rows_per_person = 3.0 * params.months
    group_blocks = max(1, round(WALLET_ROWS_PER_FILE / (wallet_rows_per_person * BLOCK)))
    chunk_blocks = min(group_blocks, -(-options.chunk_size // BLOCK))
    return Plan(world, group_blocks, chunk_blocks)


def make_chunk(world: World, timeline: Timeline, first: int, n_blocks: int) -> Chunk:
    """The people of blocks ``[first, first + n_blocks)`` and of one block either side."""
    ext_first = max(first - 1, 0)
    ext_end = min(first + n_blocks + 1, world.n_blocks)
    neighbours = make_people(world, Streams(world.params.seed, ext_first, ext_end - ext_first))
    lo = (first - ext_first) * BLOCK
    size = int(world.block_sizes(first, n_blocks).sum())
    people = neighbours.take(slice(lo, lo + size), first, n_blocks)
    return Chunk(world, timeline, Streams(world.params.seed, first, n_blocks), people, neighbours)


@dataclass
class GroupResult:
    group: int
    types: Counter[str] = field(default_factory=Counter)
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    defaulted: int = 0


def part_name(group: int) -> str:
    return f"part-{group:05d}.parquet"


def run_group(
    plan: Plan, group: int, staging: Path, progress: Progress | None = None
) -> GroupResult:
    """Make one file group: every source's part file and the staged people rows."""
    world = plan.world
    timeline = Timeline.of(world.params)
    first, end = plan.group_range(group)
    writers = {
        s: RowGroupWriter(staging / "events" / s / part_name(group), EVENT_FILE_SCHEMA)
        for s in SOURCES
    }
    result = GroupResult(group)
    people_path = staging / "_people" / f"{group:05d}.arrow"
    people_path.parent.mkdir(parents=True, exist_ok=True)
    with ipc.new_file(people_path, PEOPLE_SCHEMA) as people_out:
        for b in range(first, end, plan.chunk_blocks):
            nb = min(plan.chunk_blocks, end - b)
            chunk = make_chunk(world, timeline, b, nb)
            social, degree = social_events(chunk)
            tables = {
                "wallet": wallet_events(chunk),
                "credit": credit_events(chunk),
                "rentals": rental_events(chunk),
                "profile": profile_events(chunk),
                "social": social,
                "public_records": public_record_events(chunk),
            }
            for source, parts in tables.items():
                for t in parts:
                    if t.num_rows:
                        result.types[t.column("type")[0].as_py()] += t.num_rows
                table = interleave_blocks(chunk, parts)
                if table is not None:
                    writers[source].write(table)
            ids = fixed_strings(chunk.id_matrix(chunk.people.number))
            people_out.write_table(people_table(world, chunk.people, ids, degree))
            result.defaulted += int(chunk.people.defaulted.sum())
            if progress is not None:
                progress(len(chunk.people))
    for source, w in writers.items():
        rows = w.close()
        rel = f"events/{source}/{part_name(group)}"
        result.files[rel] = {"rows": rows, "sha256": sha256_file(w.path)}
    return result


# Worker processes ------------------------------------------------------------------

_progress_queue: Any = None


def _init_worker(queue: Any) -> None:
    global _progress_queue
    _progress_queue = queue
    # The parent decides what an interrupt means; workers just stop with it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _worker_group(plan: Plan, group: int, staging: Path) -> GroupResult:
    return run_group(plan, group, staging, _progress_queue.put)


def _run_groups(plan: Plan, staging: Path, workers: int, progress: Progress | None):
    if workers <= 1 or plan.n_groups <= 1:
        return [run_group(plan, g, staging, progress) for g in range(plan.n_groups)]
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    results: list[GroupResult] = []
    with ProcessPoolExecutor(
        max_workers=min(workers, plan.n_groups),
        mp_context=ctx,
        initializer=_init_worker,
        initargs=(queue,),
    ) as pool:
        futures = [pool.submit(_worker_group, plan, g, staging) for g in range(plan.n_groups)]
        try:
            pending = set(futures)
            while pending:
                done, pending = wait(pending, timeout=0.2, return_when=FIRST_EXCEPTION)
                while not queue.empty():
                    n = queue.get()
                    if progress is not None:
                        progress(n)
                for f in done:
                    results.append(f.result())  # re-raises a worker's error
        except BaseException:
            # Interrupted or failed: stop the other groups now rather than finish them.
            for f in futures:
                f.cancel()
            for process in list(getattr(pool, "_processes", {}).values()):
                process.terminate()
            raise
    while not queue.empty():
        n = queue.get()
        if progress is not None:
            progress(n)
    return sorted(results, key=lambda r: r.group)


# The whole run ---------------------------------------------------------------------


#: People per sorting bucket when people.parquet is put in person_id order.
SORT_BUCKET = 1 << 20


def _merge_people(plan: Plan, staging: Path) -> dict[str, dict[str, Any]]:
    """``people.parquet`` and ``outcomes.parquet`` in ``person_id`` order.

    Generation order groups people by city; a file in that order would make "the first
    thousand rows" one city. Person numbers are a permutation of 1..N, so rows are first
    spread into buckets of ``SORT_BUCKET`` consecutive numbers, then each bucket is
    sorted on its own: memory holds one bucket, never the population.
    """
    world = plan.world
    staged = staging / "_people"
    n_buckets = -(-world.n_people // SORT_BUCKET)
    buckets: dict[int, Any] = {}
    try:
        for g in range(plan.n_groups):
            path = staged / f"{g:05d}.arrow"
            with pa.memory_map(str(path)) as source:
                table = ipc.open_file(source).read_all()
            digits = pc.utf8_slice_codeunits(table["person_id"], 1)
            bucket = (pc.cast(digits, pa.int64()).to_numpy() - 1) // SORT_BUCKET
            for k in np.unique(bucket).tolist():
                if k not in buckets:
                    buckets[k] = ipc.new_file(staged / f"bucket-{k:05d}.arrow", PEOPLE_SCHEMA)
                buckets[k].write_table(table.filter(pa.array(bucket == k)))
            path.unlink()
    finally:
        for writer in buckets.values():
            writer.close()

    people = RowGroupWriter(staging / "people.parquet", PEOPLE_SCHEMA)
    outcomes = RowGroupWriter(staging / "outcomes.parquet", OUTCOMES_SCHEMA)
    as_of_days = (np.datetime64(world.params.as_of, "D") - np.datetime64(0, "D")).astype(np.int32)
    for k in range(n_buckets):
        path = staged / f"bucket-{k:05d}.arrow"
        with pa.memory_map(str(path)) as source:
            table = ipc.open_file(source).read_all().sort_by("person_id")
        people.write(table)
        n = table.num_rows
        outcomes.write(
            pa.Table.from_pydict(
                {
                    "person_id": table.column("person_id"),
                    "as_of": pa.array(np.full(n, as_of_days, np.int32), pa.date32()),
                    "defaulted_12m": pc.cast(table.column("defaulted"), pa.int8()),
                    "horizon_months": pa.array(np.full(n, 12, np.int8)),
                },
                schema=OUTCOMES_SCHEMA,
            )
        )
        del table
        path.unlink()
    staged.rmdir()
    files = {}
    for w in (people, outcomes):
        rows = w.close()
        files[w.path.name] = {"rows": rows, "sha256": sha256_file(w.path)}
    return files


def manifest(plan: Plan, results: list[GroupResult], files: dict[str, Any]) -> dict[str, Any]:
    params = plan.world.params
    types: Counter[str] = Counter()
    for r in results:
        types.update(r.types)
    sources: Counter[str] = Counter()
    for t, spec in EVENT_TYPES.items():
        sources[spec.source.value] += types.get(t.value, 0)
    timeline = Timeline.of(params)
    return {
        "format": FORMAT,
        "generator": "openscore synth",
        "versions": {"numpy": np.__version__, "pyarrow": pa.__version__},
        "params": params.model_dump(mode="json"),
        "seed": params.seed,
        "as_of": params.as_of.isoformat(),
        "window_start": params.window_start.isoformat(),
        "observed_before": f"{params.as_of.isoformat()}T00:00:00Z",
        "people": params.people,
        "block_size": BLOCK,
        "files_per_source": plan.n_groups,
        "months_touched": timeline.n_months,
        "counts": {
            "events": int(sum(types.values())),
            "sources": {s: int(sources.get(s, 0)) for s in SOURCES},
            "types": {t.value: int(types.get(t.value, 0)) for t in EVENT_TYPES},
            "defaulted": sum(r.defaulted for r in results),
        },
        "files": dict(sorted(files.items())),
    }


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM unwinds like Ctrl-C, so the staging directory is removed."""

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def generate(
    params: SynthParams,
    out: Path,
    options: RunOptions | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Make the world of ``params`` in ``out``; returns the manifest.

    Everything that can be refused (parameters, country, a non-empty ``out``) is refused
    before anything is written.
    """
    options = options or RunOptions()
    plan = make_plan(params, options)
    with _terminate_as_interrupt(), Staging(Path(out)) as staging:
        results = _run_groups(plan, staging.path, options.workers, progress)
        files: dict[str, Any] = {}
        for r in results:
            files.update(r.files)
        files.update(_merge_people(plan, staging.path))
        table = plan.world.cities.table()
        cities = RowGroupWriter(staging.path / "cities.parquet", table.schema)
        cities.write(table)
        files["cities.parquet"] = {"rows": cities.close(), "sha256": sha256_file(cities.path)}
        result = manifest(plan, results, files)
        staging.commit(result)
    return result


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)
