"""A real Spark standalone cluster: one master and two workers on 127.0.0.1.

The cluster is started once for this module with pyspark's own ``bin/spark-class``
(``engines/standalone.py``) and stopped at the end. ``openscore features``, ``train`` and
``score`` run as separate commands with ``--engine spark`` and ``OPENSCORE_SPARK_MASTER``
pointing at it; the executors read the ledger's segments from the shared data directory.
Everything must equal what DuckDB computes from the same ledger. Then, on the same
cluster: a segment the workers cannot read, and a worker killed mid-job (last: it leaves
one worker).

The workers are *confined* (``StandaloneCluster(confined=True)``): subject to file
permissions even when the tests run as root, so a segment with mode 000 is "a ledger
path a worker cannot read" -- the driver still reads it, the executors cannot.

Bounded for CI (one cluster, a couple of thousand people, Spark settings for small jobs).
Not skipped without Java: the cluster cannot start, and the tests fail saying why.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from openscore.engines.duckdb import DuckDBEngine
from openscore.errors import EngineError
from openscore.features import FEATURE_NAMES
from openscore.features.graph import GRAPH_FEATURES
from openscore.ingest import Ingester, no_consent_check
from openscore.jobs import batch_scores, feature_table, train_from_events
from openscore.ledger import Ledger
from openscore.model import Scorecard
from openscore.synth import RunOptions, generate, parse_params

from fixtures.spark import nulls_alike

pytestmark = [pytest.mark.spark, pytest.mark.slow, pytest.mark.cluster]

#: bounded for CI: a few thousand people, every feature and several reasons present
#: (``OPENSCORE_TEST_CLUSTER_PEOPLE`` makes it smaller on a busy machine)
PEOPLE = int(os.environ.get("OPENSCORE_TEST_CLUSTER_PEOPLE", "2000"))
MONTHS, SEED = 13, 7
#: seconds per command: a Spark application's start and ~250 stages on 2 one-core executors
#: (generous: a shared CI machine can be very busy)
COMMAND_TIMEOUT = float(os.environ.get("OPENSCORE_TEST_CLUSTER_TIMEOUT", "900"))
AS_OF = date(2026, 6, 30)
#: settings for small jobs on a shared 2-core machine: small driver and executors (an
#: executor must fit in a 1 GB worker), one shuffle partition per executor, no web UI,
#: tasks start at once wherever a core is free (all data is local to both workers). Most
#: of the CPU of jobs this small is the JVMs' own: starting, compiling Spark's generated
#: code, JIT-compiling it; so the JVMs use only the quick JIT tier and the serial GC, and
#: operators are interpreted rather than compiled per stage (~250 stages a command)
JVM_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
SUBMIT_ARGS = (
    f"--driver-memory 768m --driver-java-options '{JVM_OPTIONS}' "
    f"--conf 'spark.executor.extraJavaOptions={JVM_OPTIONS}' "
    "--conf spark.executor.memory=512m "
    "--conf spark.sql.shuffle.partitions=2 --conf spark.default.parallelism=2 "
    "--conf spark.sql.codegen.wholeStage=false "
    "--conf spark.ui.enabled=false --conf spark.locality.wait=0s pyspark-shell"
)


@dataclass(frozen=True)
class World:
    root: Path
    data: Path
    ledger: Ledger
    outcomes: Path
    out: Path


@pytest.fixture(scope="module")
def cluster() -> Iterator[object]:
    from openscore.engines.standalone import StandaloneCluster

    try:
        c = StandaloneCluster(workers=2, cores=1, memory="1g", confined=True).start()
    except EngineError as exc:  # no Java, or the cluster would not come up: a failure
        pytest.fail(f"the Spark standalone cluster cannot start: {exc.message}")
    yield c
    c.stop()
    assert not c.processes


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    root = Path(tempfile.mkdtemp(prefix="openscore-cluster-test-"))
    data = root / "data"
    generate(
        parse_params(people=PEOPLE, months=MONTHS, seed=SEED, as_of=AS_OF),
        root / "synth",
        RunOptions(workers=1),
    )
    ledger = Ledger(data / "ledger")
    result = Ingester(ledger, consent_gate=no_consent_check).run(
        [root / "synth" / "events"], "synth"
    )
    assert result.accepted > 50 * PEOPLE and result.rejected == 0
    out = root / "out"
    out.mkdir()
    yield World(root, data, ledger, root / "synth" / "outcomes.parquet", out)
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def duck() -> Iterator[DuckDBEngine]:
    engine = DuckDBEngine()
    yield engine
    engine.close()


def openscore(world: World, cluster, *args: str) -> subprocess.Popen:
    """Start ``openscore ARGS --engine spark`` against the cluster (a driver in client mode)."""
    env = {
        **os.environ,
        "OPENSCORE_DATA_DIR": str(world.data),
        "OPENSCORE_SPARK_MASTER": cluster.master_url,
        "OPENSCORE_SPARK_START_TIMEOUT": "300",  # a busy shared machine registers slowly
        "SPARK_LOCAL_IP": "127.0.0.1",
        "PYSPARK_SUBMIT_ARGS": SUBMIT_ARGS,
        "COLUMNS": "1000",  # one message a line: rich wraps at 80 columns otherwise
    }
    return subprocess.Popen(
        [sys.executable, "-m", "openscore", *args, "--engine", "spark"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run(world: World, cluster, *args: str, timeout: float = COMMAND_TIMEOUT) -> str:
    proc = openscore(world, cluster, *args)
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, f"openscore {' '.join(args)} failed:\n{err[-3000:]}"
    return out


def by_person(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values("person_id").reset_index(drop=True)


def assert_same_scores(got: pd.DataFrame, want: pd.DataFrame) -> None:
    """Every column of DuckDB's scores equal in the cluster's. A dimension the model gives
    no points is null for everyone: pandas reads that column as float64 from one Parquet
    file and as object from the other; the values (all null) are what must agree."""

    pd.testing.assert_frame_equal(
        nulls_alike(got[list(want.columns)]), nulls_alike(want), check_exact=True
    )


def test_features_training_and_scores_on_the_cluster_equal_duckdb(
    cluster,
    world: World,
    duck: DuckDBEngine,
) -> None:
    # features: executors read the ledger's segments from the shared data directory
    run(
        world,
        cluster,
        "features",
        "--as-of",
        AS_OF.isoformat(),
        "--out",
        str(world.out / "f.parquet"),
    )
    got = by_person(pq.read_table(world.out / "f.parquet").to_pandas())
    want = by_person(duck.to_pandas(feature_table(duck, world.ledger, AS_OF)))
    assert len(want) > 0.9 * PEOPLE
    assert got["person_id"].tolist() == want["person_id"].tolist()
    for name in FEATURE_NAMES:
        if name not in GRAPH_FEATURES:
            assert want[name].notna().any(), name
        pd.testing.assert_series_equal(
            got[name], want[name], check_exact=False, rtol=1e-9, atol=1e-12, obj=name
        )

    # training: the sample's features on the cluster, the fit on the driver
    model = world.out / "model.json"
    run(
        world,
        cluster,
        "train",
        "--outcomes",
        str(world.outcomes),
        "--method",
        "scorecard",
        "--out",
        str(model),
    )
    card = Scorecard.load(model)
    duck_card = train_from_events(duck, world.ledger, world.outcomes, method="scorecard")
    assert card.training["fingerprint"] == duck_card.training["fingerprint"]
    assert [t.points for t in card.terms] == [t.points for t in duck_card.terms]

    # scores: two stages (the card has a relationships term or not), written by executors
    run(
        world,
        cluster,
        "score",
        "--model",
        str(model),
        "--as-of",
        AS_OF.isoformat(),
        "--out",
        str(world.out / "s.parquet"),
    )
    got = by_person(pq.read_table(world.out / "s.parquet").to_pandas())
    want = by_person(duck.to_pandas(batch_scores(duck, world.ledger, card, AS_OF)))
    assert len(got) == len(want) > 0.9 * PEOPLE
    assert want["reason_1"].nunique() > 3 and want["band"].nunique() >= 3
    assert_same_scores(got, want)
    # the application ran on the cluster's workers, not in a local JVM
    apps = cluster.state()["completedapps"]
    assert len(apps) >= 3 and all(a["state"] == "FINISHED" for a in apps)


def test_a_segment_the_workers_cannot_read_is_named(cluster, world: World) -> None:
    segment = sorted((world.data / "ledger").rglob("*.parquet"))[0]
    segment.chmod(0o000)  # the confined executors cannot open it (as root: the driver can)
    try:
        proc = openscore(
            world,
            cluster,
            "features",
            "--as-of",
            AS_OF.isoformat(),
            "--out",
            str(world.out / "unreadable.parquet"),
        )
        _, err = proc.communicate(timeout=COMMAND_TIMEOUT)
    finally:
        segment.chmod(0o644)
    assert proc.returncode != 0
    assert segment.name in err and "cannot read" in err, err[-2000:]
    assert "Traceback" not in err and "\tat " not in err
    assert not (world.out / "unreadable.parquet").exists()


def test_a_worker_killed_mid_job_is_retried_or_fails_cleanly(
    cluster,
    world: World,
    duck: DuckDBEngine,
) -> None:
    """Kill one worker (and its executor) while scores are being computed: Spark moves
    its tasks to the other worker and the job finishes with the same scores, or the job
    fails with one clear message -- never a partial scores file. Last in the module: the
    cluster keeps one worker."""
    from openscore.features.expert import expert_scorecard

    model = world.out / "expert.json"
    expert_scorecard().save(model)
    out = world.out / "killed.parquet"
    logs = cluster.workdir / "worker-2"
    earlier = set(logs.glob("app-*"))  # the applications of the tests before this one
    proc = openscore(
        world,
        cluster,
        "score",
        "--model",
        str(model),
        "--as-of",
        AS_OF.isoformat(),
        "--out",
        str(out),
    )
    # mid-job: once worker-2's executor has started running this application's tasks
    deadline = time.monotonic() + COMMAND_TIMEOUT
    running = False
    while not running and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.5)
        running = any(
            "Running task" in log.read_text(errors="replace")
            for app in set(logs.glob("app-*")) - earlier
            for log in app.glob("*/stderr")
        )
    assert running, f"no task ran on worker-2 before the job ended: {proc.poll()}"
    cluster.kill("worker-2")
    _, err = proc.communicate(timeout=COMMAND_TIMEOUT)
    assert (cluster.state() or {}).get("aliveworkers") == 1
    if proc.returncode == 0:
        got = by_person(pq.read_table(out).to_pandas())
        want = by_person(
            duck.to_pandas(batch_scores(duck, world.ledger, Scorecard.load(model), AS_OF))
        )
        assert_same_scores(got, want)
    else:
        assert "error: Spark failed" in err and "Traceback" not in err, err[-2000:]
        assert not out.exists()
    assert not list(world.out.glob(".killed.parquet.tmp-*"))
