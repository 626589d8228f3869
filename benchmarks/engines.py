"""Features + batch scores of everyone, on DuckDB and on Spark local mode, by size.

    .venv/bin/python benchmarks/engines.py [--people 100000,1000000,5000000] [--months 24]
        [--engines duckdb,spark,spark-cluster]

``spark-cluster`` is a Spark standalone cluster started here for the run (one master and
two workers on 127.0.0.1 with pyspark's own ``bin/spark-class``, ``--cluster-cores`` and
``--cluster-memory`` each; ``engines/standalone.py``) and stopped at the end; the job is
the same child process with ``OPENSCORE_SPARK_MASTER`` set to it (a client-mode driver,
executors in the workers' JVMs, the ledger read in place from the shared directory). Its
``peak_rss_mb`` and ``job_cpu_seconds`` are the driver's; the executors are the workers'
children, not the job's, so ``cluster_peak_rss_mb`` (workers, executors and their Python
workers, sampled) and ``cluster_cpu_seconds`` (the workers and every descendant they
reaped during the run) are measured beside them, and ``total_cpu_seconds`` adds both.

For each size: a synthetic world (``openscore.synth``, ``--months`` of history: about 100
events a person at 24 months) is turned into a ledger **directly** -- one segment per
synth file group, sorted by (person_id, occurred_at) like a compacted ledger, written by
one DuckDB ``COPY`` each -- because ``openscore ingest`` (validation, consent,
deduplication; ~32 k events/s in ``benchmarks/ingest.py``) would take hours at 500 M
events and is not what is measured here. Then each engine runs, in its own child process,
the job ``openscore score`` runs: ``jobs.batch_scores`` (the feature expression of
``features/`` and the compiled expert scorecard, one Ibis expression) written to Parquet.

Measured per engine and size: wall time of the child (Python start, imports, engine
start, the job), the job alone, peak RSS of the child and its children (the JVM), people
and events per second; for Spark also jobs and stages run. Both engines' scores are
compared row by row (score, band, sub-scores, reasons). Spark's fixed overhead is the same
job on a tiny world (``--tiny`` people). A log-log slope of time against people is fitted
per engine over the sizes. Worlds are generated once into ``benchmarks/work/engines`` and
reused by later runs (``--fresh`` regenerates); ``--clean`` removes them at the end.

Writes ``benchmarks/results/engines.json`` (``engines-cluster.json`` for a run with
``spark-cluster``, ``engines-duckdb.json`` for DuckDB alone) and its ``docs/benchmarks.md``
line.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import shutil
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import WORK, run_measured, save

HERE = Path(__file__).resolve()
AS_OF = date(2026, 6, 30)
SCORE_COLUMNS = (
    "score, band, dim_credit_history, dim_fulfilment_capacity, dim_behaviour, dim_identity, "
    "dim_relationships, reason_1, reason_2, reason_3, reason_4"
)


# -- data ---------------------------------------------------------------------------------


def make_world(people: int, months: int, seed: int, root: Path, fresh: bool) -> dict:
    """Synthetic world + ledger for ``people`` under ``root`` (reused when already made)."""
    from openscore.synth import RunOptions, generate, parse_params

    world = root / f"world-{people}-{months}-{seed}"
    done = world / "ledger.json"
    if done.exists() and not fresh:
        return json.loads(done.read_text())
    shutil.rmtree(world, ignore_errors=True)
    world.mkdir(parents=True)
    t0 = time.perf_counter()
    manifest = generate(
        parse_params(people=people, months=months, seed=seed, as_of=AS_OF),
        world / "synth",
        RunOptions(workers=os.cpu_count() or 1),
    )
    synth_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    ledger_rows = write_ledger(world / "synth" / "events", world / "ledger")
    ledger_s = time.perf_counter() - t0
    shutil.rmtree(world / "synth" / "events")  # the ledger holds them now
    info = {
        "people": people,
        "months": months,
        "seed": seed,
        "events": manifest["counts"]["events"],
        "ledger_rows": ledger_rows,
        "ledger_bytes": sum(p.stat().st_size for p in (world / "ledger").rglob("*.parquet")),
        "synth_seconds": round(synth_s, 1),
        "ledger_write_seconds": round(ledger_s, 1),
        "ledger": str(world / "ledger"),
    }
    done.write_text(json.dumps(info, indent=2))
    return info


def write_ledger(events: Path, root: Path) -> int:
    """One sorted segment per synth file group, committed as one batch (no ingest run)."""
    import duckdb

    from openscore.domain.events import LEDGER_SCHEMA
    from openscore.ledger import Ledger
    from openscore.ledger.manifest import Batch, now_iso
    from openscore.ledger.rewrite import PARQUET_OPTIONS

    ledger = Ledger(root)
    parts = sorted({p.name for p in events.glob("*/part-*.parquet")})
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    rows = 0
    cols = []
    for f in LEDGER_SCHEMA:
        if f.name == "furnisher_id":
            cols.append("'synth' AS furnisher_id")
        elif f.name == "batch_id":
            cols.append("'b-bench' AS batch_id")
        elif f.name == "ingested_at":
            cols.append("TIMESTAMPTZ '2026-07-01 00:00:00+00' AS ingested_at")
        else:
            cols.append(f.name)
    with ledger.writing() as txn:
        for part in parts:
            files = ", ".join(f"'{p}'" for p in sorted(events.glob(f"*/{part}")))
            tmp, final = txn.new_segment_path()
            con.execute(
                f"COPY (SELECT {', '.join(cols)} FROM read_parquet([{files}], union_by_name=true)"
                f" ORDER BY person_id, occurred_at, event_id) TO '{tmp}' ({PARQUET_OPTIONS})"
            )
            rows += txn.add_segment(tmp, final, sorted=True, batch_id="b-bench").rows
        txn.commit(batch=Batch("b-bench", "synth", rows, 0, 0, now_iso()))
    con.close()
    return rows


# -- one engine run (child process) -------------------------------------------------------


def child(engine_name: str, ledger_root: str, out: str, spark_memory: str | None) -> None:
    """Run ``openscore features`` then ``openscore score`` work once; print figures as JSON.

    Both phases in one session, as one operator run would: the feature table written to
    Parquet (``jobs.write_features``), then the batch scores (``jobs.batch_scores`` with
    the expert scorecard: features again, the relationships graph when the card uses it,
    the compiled scorecard) written to Parquet.
    """
    t0 = time.perf_counter()
    import psutil

    from openscore.engines.base import get_engine
    from openscore.features.expert import expert_scorecard
    from openscore.jobs import write_batch_scores
    from openscore.jobs.features import write_features
    from openscore.ledger import Ledger

    def cpu() -> float:
        """CPU seconds of this process and its children (the JVM) so far."""
        me = psutil.Process()
        total = sum(me.cpu_times()[:2])
        for c in me.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                total += sum(c.cpu_times()[:2])
        return total

    options = {}
    if engine_name == "spark" and spark_memory:
        options["conf"] = {"spark.driver.memory": spark_memory}
    imported = time.perf_counter()
    engine = get_engine(engine_name, **options)
    started, cpu0 = time.perf_counter(), cpu()
    ledger = Ledger(Path(ledger_root))
    write_features(engine, ledger, AS_OF, Path(out).with_suffix(".features.parquet"))
    featured, cpu1 = time.perf_counter(), cpu()
    write_batch_scores(engine, ledger, expert_scorecard(), AS_OF, Path(out))
    done, cpu2 = time.perf_counter(), cpu()
    figures = {
        "import_seconds": round(imported - t0, 2),
        "engine_start_seconds": round(started - imported, 2),
        "features_seconds": round(featured - started, 2),
        "scores_seconds": round(done - featured, 2),
        "job_seconds": round(done - started, 2),
        "features_cpu_seconds": round(cpu1 - cpu0, 1),
        "scores_cpu_seconds": round(cpu2 - cpu1, 1),
        "job_cpu_seconds": round(cpu2 - cpu0, 1),
    }
    if engine_name == "spark":
        sc = engine.session.sparkContext
        tracker = sc.statusTracker()
        jobs = tracker.getJobIdsForGroup(None)
        stages = set()
        for j in jobs:
            info = tracker.getJobInfo(j)
            if info is not None:
                stages.update(info.stageIds)
        figures.update(
            spark_jobs=len(jobs),
            spark_stages=len(stages),
            spark_conf={
                k: engine.session.conf.get(k, None)
                for k in (
                    "spark.master",
                    "spark.driver.memory",
                    "spark.sql.shuffle.partitions",
                    "spark.sql.adaptive.enabled",
                )
            },
        )
    engine.close()
    print(json.dumps(figures))


def remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    path.unlink(missing_ok=True)


#: the standalone cluster of a ``spark-cluster`` run (started by main)
CLUSTER: dict = {}


class ClusterMeter:
    """CPU seconds and peak RSS of the cluster's workers and their descendants while a job
    runs (the executors a worker starts for an application exit with it: their CPU time
    reaches the worker's ``children_*`` times once reaped)."""

    def __init__(self, pids: list[int]) -> None:
        import threading

        import psutil

        self.procs = [psutil.Process(p) for p in pids]
        self.peak = 0
        self._stop = threading.Event()
        self.cpu0 = self.cpu()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def cpu(self) -> float:
        total = 0.0
        for p in self.procs:
            with contextlib.suppress(Exception):
                t = p.cpu_times()
                total += t.user + t.system + t.children_user + t.children_system
                for c in p.children(recursive=True):  # still running: not yet counted
                    with contextlib.suppress(Exception):
                        total += sum(c.cpu_times()[:2])
        return total

    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            rss = 0
            for p in self.procs:
                with contextlib.suppress(Exception):
                    rss += p.memory_info().rss
                    for c in p.children(recursive=True):
                        with contextlib.suppress(Exception):
                            rss += c.memory_info().rss
            self.peak = max(self.peak, rss)

    def stop(self) -> dict:
        self._stop.set()
        self._thread.join()
        time.sleep(2)  # the executors exit after the driver: let the workers reap them
        return {
            "cluster_cpu_seconds": round(self.cpu() - self.cpu0, 1),
            "cluster_peak_rss_mb": round(self.peak / 2**20),
        }


def run_engine(engine: str, info: dict, out: Path, spark_memory: str | None) -> dict:
    remove(out)
    remove(out.with_suffix(".features.parquet"))
    runs_on = "spark" if engine == "spark-cluster" else engine
    cmd = [sys.executable, str(HERE), "--child", runs_on, info["ledger"], str(out)]
    env = None
    if engine == "spark-cluster":
        env = {
            "OPENSCORE_SPARK_MASTER": CLUSTER["master"],
            "SPARK_LOCAL_IP": "127.0.0.1",
            "OPENSCORE_SPARK_START_TIMEOUT": "300",
            "PYSPARK_SUBMIT_ARGS": CLUSTER["submit_args"],
        }
    elif spark_memory:
        cmd += ["--spark-memory", spark_memory]
    load_before = os.getloadavg()
    meter = ClusterMeter(CLUSTER["worker_pids"]) if engine == "spark-cluster" else None
    try:
        run = run_measured(cmd, env=env)
    finally:
        cluster = meter.stop() if meter is not None else {}
    inner = json.loads(run.stdout.strip().splitlines()[-1])
    if cluster:
        cluster["total_cpu_seconds"] = round(
            inner["job_cpu_seconds"] + cluster["cluster_cpu_seconds"], 1
        )
    return {
        "wall_seconds": round(run.seconds, 2),
        "peak_rss_mb": round(run.peak_rss_mb),
        **inner,
        **cluster,
        "people_per_second": round(info["people"] / inner["job_seconds"]),
        "events_per_second": round(info["events"] / inner["job_seconds"]),
        "load_average_before": [round(x, 2) for x in load_before],
    }


def compare(duck_out: Path, spark_out: Path) -> dict:
    """People whose features (beyond 1e-9 relative) or whose score, band, sub-scores or
    reasons differ between the two engines' outputs."""
    import duckdb

    from openscore.features import FEATURE_NAMES

    con = duckdb.connect()
    cols = [c.strip() for c in SCORE_COLUMNS.split(",")]
    differ = " OR ".join(f"d.{c} IS DISTINCT FROM s.{c}" for c in cols)
    (rows, only_one, mismatched) = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE d.person_id IS NULL OR s.person_id IS NULL),"
        f" count(*) FILTER (WHERE {differ}) FROM read_parquet('{duck_out}') d FULL JOIN "
        f"read_parquet('{spark_out}/*.parquet') s USING (person_id)"
    ).fetchall()[0]
    d_feat = duck_out.with_suffix(".features.parquet")
    s_feat = spark_out.with_suffix(".features.parquet")
    per_feature = ", ".join(
        f"count(*) FILTER (WHERE (d.{f} IS NULL) <> (s.{f} IS NULL) OR "
        f"abs(d.{f} - s.{f}) > 1e-9 * greatest(abs(d.{f}), 1)) AS {f}"
        for f in FEATURE_NAMES
    )
    counts = con.execute(
        f"SELECT {per_feature} FROM read_parquet('{d_feat}') d FULL JOIN "
        f"read_parquet('{s_feat}/*.parquet') s USING (person_id)"
    ).fetchall()[0]
    con.close()
    return {
        "rows": rows,
        "missing_on_one_side": only_one,
        "score_rows_differing": mismatched,
        "feature_values_differing": {f: n for f, n in zip(FEATURE_NAMES, counts, strict=True) if n},
    }


def slope(sizes: list[int], seconds: list[float]) -> float | None:
    """Least-squares slope of log(seconds) on log(size)."""
    if len(sizes) < 2:
        return None
    xs = [math.log(s) for s in sizes]
    ys = [math.log(t) for t in seconds]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    num = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    den = sum((x - mx) ** 2 for x in xs)
    return round(num / den, 3)


# -- main ---------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", default="100000,1000000,5000000")
    ap.add_argument("--months", type=int, default=24)
    ap.add_argument("--seed", type=int, default=8)
    ap.add_argument("--tiny", type=int, default=1000, help="people in the fixed-overhead run")
    ap.add_argument("--engines", default="duckdb,spark", help="of duckdb,spark,spark-cluster")
    ap.add_argument("--cluster-cores", type=int, default=1, help="cores of each worker")
    ap.add_argument("--cluster-memory", default="2g", help="memory of each worker")
    ap.add_argument("--spark-memory", default=None, help="spark.driver.memory (local mode)")
    ap.add_argument("--work", type=Path, default=WORK / "engines")
    ap.add_argument("--fresh", action="store_true", help="regenerate the worlds")
    ap.add_argument("--clean", action="store_true", help="remove the worlds at the end")
    ap.add_argument("--child", nargs=3, metavar=("ENGINE", "LEDGER", "OUT"))
    ap.add_argument(
        "--finalize",
        type=Path,
        metavar="LOG",
        help="save the figures of an interrupted run: its partial file, plus the per-engine "
        "lines of its printed LOG for a size that did not finish on every engine",
    )
    args = ap.parse_args()
    if args.child:
        child(*args.child, spark_memory=args.spark_memory)
        return
    if args.finalize:
        finalize(args.finalize)
        return

    sizes = [int(s) for s in args.people.split(",") if s]
    engines = [e for e in args.engines.split(",") if e]
    args.work.mkdir(parents=True, exist_ok=True)
    disk = shutil.disk_usage(args.work)
    figures: dict = {
        "as_of": AS_OF.isoformat(),
        "months": args.months,
        "model": "expert scorecard (features/expert.yaml)",
        "ledger_setup": "synth output written directly as sorted ledger segments (no ingest)",
        "disk_free_gb_at_start": round(disk.free / 2**30, 1),
        "tiny": {},
        "sizes": {},
    }
    print(f"free disk: {figures['disk_free_gb_at_start']} GB", flush=True)

    cluster = None
    if "spark-cluster" in engines:
        from openscore.engines.standalone import StandaloneCluster

        cluster = StandaloneCluster(
            workers=2, cores=args.cluster_cores, memory=args.cluster_memory
        ).start()
        executor_mb = int(cluster_mb(args.cluster_memory) * 0.8)
        CLUSTER.update(
            master=cluster.master_url,
            worker_pids=[p.pid for n, p in cluster.processes.items() if n != "master"],
            submit_args=f"--conf spark.executor.memory={executor_mb}m "
            f"--conf spark.sql.shuffle.partitions={4 * 2 * args.cluster_cores} pyspark-shell",
        )
        figures["cluster"] = {
            "master": cluster.master_url,
            "workers": 2,
            "cores_per_worker": args.cluster_cores,
            "memory_per_worker": args.cluster_memory,
            "executor_memory_mb": executor_mb,
        }
    try:
        run_sizes(args, figures, sizes, engines)
    finally:
        if cluster is not None:
            cluster.stop()
    figures["slopes"] = slopes(figures, engines)
    if args.clean:
        shutil.rmtree(args.work, ignore_errors=True)
    command = "python benchmarks/engines.py"
    flags = (
        "people",
        "engines",
        "cluster_cores",
        "cluster_memory",
        "spark_memory",
        "months",
        "seed",
    )
    for flag in flags:
        if getattr(args, flag) != ap.get_default(flag):
            command += f" --{flag.replace('_', '-')} {getattr(args, flag)}"
    save(results_name(engines), figures, summary(figures, sizes, engines), command)


def results_name(engines: list[str]) -> str:
    """A run with the cluster, or with DuckDB alone, has its own results file and line: it
    does not replace the figures of a run that compared DuckDB with Spark local mode."""
    if "spark-cluster" in engines:
        return "engines-cluster"
    return "engines-duckdb" if engines == ["duckdb"] else "engines"


def cluster_mb(memory: str) -> int:
    """``2g`` / ``1536m`` in MiB."""
    unit = memory[-1].lower()
    return int(memory[:-1]) * (1024 if unit == "g" else 1) if unit in "gm" else int(memory)


def run_sizes(
    args: argparse.Namespace, figures: dict, sizes: list[int], engines: list[str]
) -> None:
    tiny = make_world(args.tiny, args.months, args.seed, args.work, args.fresh)
    figures["tiny"]["world"] = tiny
    for engine in engines:
        figures["tiny"][engine] = run_engine(
            engine, tiny, args.work / f"tiny-{engine}.parquet", args.spark_memory
        )
        print("tiny", engine, figures["tiny"][engine], flush=True)

    for people in sizes:
        info = make_world(people, args.months, args.seed, args.work, args.fresh)
        print(f"world {people:,}: {info}", flush=True)
        entry: dict = {"world": info}
        outs = {}
        for engine in engines:
            outs[engine] = args.work / f"scores-{people}-{engine}.parquet"
            entry[engine] = run_engine(engine, info, outs[engine], args.spark_memory)
            print(people, engine, entry[engine], flush=True)
        for spark in ("spark", "spark-cluster"):
            if "duckdb" not in engines or spark not in engines:
                continue
            prefix = "" if spark == "spark" else "cluster_"
            entry[f"{prefix}parity"] = compare(outs["duckdb"], outs[spark])
            entry[f"{prefix}spark_to_duckdb_job"] = round(
                entry[spark]["job_seconds"] / entry["duckdb"]["job_seconds"], 2
            )
            entry[f"{prefix}spark_to_duckdb_job_cpu"] = round(
                entry[spark]["job_cpu_seconds"] / entry["duckdb"]["job_cpu_seconds"], 2
            )
            entry[f"{prefix}spark_to_duckdb_wall"] = round(
                entry[spark]["wall_seconds"] / entry["duckdb"]["wall_seconds"], 2
            )
            print(people, f"{prefix}parity", entry[f"{prefix}parity"], flush=True)
        for out in outs.values():
            remove(out)
            remove(out.with_suffix(".features.parquet"))
        figures["sizes"][str(people)] = entry
        write_partial(figures)


def slopes(figures: dict, engines: list[str]) -> dict:
    """Log-log slopes per engine over the sizes that engine finished."""
    out = {}
    for engine in engines:
        done = [int(n) for n, e in figures["sizes"].items() if engine in e]
        out[engine] = {
            key: slope(done, [figures["sizes"][str(n)][engine][field] for n in done])
            for key, field in (
                ("job", "job_seconds"),
                ("job_cpu", "job_cpu_seconds"),
                ("features", "features_seconds"),
                ("wall", "wall_seconds"),
            )
        }
    return out


def finalize(log: Path) -> None:
    """Save an interrupted run: the partial figures, plus engine lines printed for a size
    that was cut off (e.g. DuckDB finished 5 M people, Spark was stopped)."""
    import ast

    figures = json.loads((WORK / "engines-partial.json").read_text())
    cut: list[str] = []
    known = ("duckdb", "spark", "spark-cluster")
    for line in log.read_text().splitlines():
        head, _, rest = line.partition(" {")
        parts = head.split()
        if len(parts) == 2 and parts[0].isdigit() and parts[1] in known:
            entry = figures["sizes"].setdefault(parts[0], {})
            if parts[1] not in entry:
                entry[parts[1]] = ast.literal_eval("{" + rest)
                cut.append(f"{int(parts[0]):,} people: {parts[1]} only")
        elif line.startswith("world ") and ":" in line:
            n = line.split()[1].rstrip(":").replace(",", "")
            if n.isdigit() and n in figures["sizes"]:
                figures["sizes"][n].setdefault("world", ast.literal_eval(line.split(": ", 1)[1]))
    engines = [e for e in known if any(e in v for v in figures["sizes"].values())]
    figures["slopes"] = slopes(figures, engines)
    figures["interrupted"] = cut
    sizes = sorted(int(n) for n in figures["sizes"])
    people = ",".join(str(n) for n in sizes)
    flag = f" --engines {','.join(engines)}" if results_name(engines) != "engines" else ""
    save(
        results_name(engines),  # the name the run itself would have saved under
        figures,
        summary(figures, sizes, engines) + (f"; stopped early: {', '.join(cut)}" if cut else ""),
        f"python benchmarks/engines.py --people {people}{flag} (then --finalize on the log)",
    )


def write_partial(figures: dict) -> None:
    """Figures so far, in case a later size does not finish."""
    path = WORK / "engines-partial.json"
    path.write_text(json.dumps(figures, indent=2) + "\n")


def cell(name: str, run: dict) -> str:
    """``duckdb 25 s (CPU 40 s, peak 900 MB)``: the job's wall time, CPU and memory; on the
    cluster the CPU and memory of the driver and of the workers' executors together."""
    cpu = run.get("total_cpu_seconds", run["job_cpu_seconds"])
    peak = run["peak_rss_mb"] + run.get("cluster_peak_rss_mb", 0)
    return f"{name} {run['job_seconds']:,.0f} s (CPU {cpu:,.0f} s, peak {peak:,} MB)"


def summary(figures: dict, sizes: list[int], engines: list[str]) -> str:
    parts = []
    for n in sizes:
        e = figures["sizes"][str(n)]
        cells = [cell(name, e[name]) for name in engines if name in e]
        extra = f" ({e['spark_to_duckdb_job']}x)" if "spark_to_duckdb_job" in e else ""
        if "cluster_spark_to_duckdb_job" in e:
            extra += f" (cluster {e['cluster_spark_to_duckdb_job']}x)"
        differ = [e[k]["score_rows_differing"] for k in ("parity", "cluster_parity") if k in e]
        parity = f", {sum(differ):,} scores differ" if any(differ) else ""
        if differ and not any(differ):
            parity = ", every score equal to DuckDB's"
        parts.append(f"{n / 1e6:g} M people: {', '.join(cells)}{extra}{parity}")
    slopes = ", ".join(
        f"{k} {v['job']}" for k, v in figures["slopes"].items() if v["job"] is not None
    )
    loads = [
        run["load_average_before"][0]
        for n in sizes
        for name, run in figures["sizes"][str(n)].items()
        if name in engines and "load_average_before" in run
    ]
    tiny = figures["tiny"].get("spark", {})
    overhead = (
        f"; Spark fixed overhead {tiny['wall_seconds']:.0f} s wall "
        f"({tiny['engine_start_seconds']:.0f} s start) on {figures['tiny']['world']['people']:,}"
        " people"
        if tiny
        else ""
    )
    slope = f"; log-log slope {slopes}" if slopes else ""
    load = f"; load average {min(loads):.1f}-{max(loads):.1f} before the runs" if loads else ""
    return f"{'; '.join(parts)}{slope}{overhead}{load} on 2 cores (aim: slope ~1, Spark <= 5x)"


if __name__ == "__main__":
    main()
