"""The Spark engine keeps DuckDB's contract: reading in place, frames in, Parquet out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from openscore.domain.events import LEDGER_SCHEMA
from openscore.engines.base import get_engine
from openscore.engines.duckdb import DuckDBEngine
from openscore.engines.spark import SparkEngine, master_endpoints
from openscore.features import FEATURE_NAMES, build_features

from fixtures.data import make_events

pytestmark = pytest.mark.spark

AS_OF = date(2026, 6, 30)


def ledger_file(path: Path, n: int = 400) -> Path:
    """A ledger segment (the ledger's schema) of ``n`` valid events."""
    events = make_events(n, seed=3, people=20)
    events = events.append_column("furnisher_id", pa.array(["f"] * n, pa.string()))
    rows = events.num_rows
    events = events.append_column("batch_id", pa.array(["b"] * rows, pa.string()))
    events = events.append_column(
        "ingested_at", pa.array([None] * rows, LEDGER_SCHEMA.field("ingested_at").type)
    )
    pq.write_table(events.select(LEDGER_SCHEMA.names).cast(LEDGER_SCHEMA), path)
    return path


def test_get_engine_reuses_the_running_session(spark_engine: Any) -> None:
    # what `--engine spark` does inside a process that already runs Spark (spark-submit)
    engine = get_engine("spark")
    try:
        assert isinstance(engine, SparkEngine)
        assert engine.session is spark_engine.session
        assert engine.session.conf.get("spark.sql.session.timeZone") == "UTC"
    finally:
        engine.close()
    assert not spark_engine.session.sparkContext._jsc.sc().isStopped()


def test_describe_says_where_it_runs(spark_engine: Any) -> None:
    info = spark_engine.describe()

    assert info["master"] == "local[2]"
    assert info["shuffle_partitions"] == 2
    assert int(info["java"].split(".")[0]) >= 17


def test_the_ledger_is_read_in_place_like_duckdb(spark_engine: Any, tmp_path: Path) -> None:
    seg = ledger_file(tmp_path / "seg-1.parquet")
    duck = DuckDBEngine()
    want = duck.to_pandas(build_features(duck.ledger([seg]), AS_OF))
    got = spark_engine.to_pandas(build_features(spark_engine.ledger([seg]), AS_OF))
    duck.close()

    want = want.sort_values("person_id").reset_index(drop=True)
    got = got.sort_values("person_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-9)


def test_an_empty_ledger_gives_an_empty_feature_table(spark_engine: Any) -> None:
    got = spark_engine.to_pandas(build_features(spark_engine.ledger([]), AS_OF))

    assert got.empty
    assert list(got.columns) == ["person_id", *FEATURE_NAMES]


def test_a_pandas_frame_becomes_a_table(spark_engine: Any) -> None:
    frame = pd.DataFrame({"person_id": ["p1", "p2", None], "amount": [1.5, None, 3.0]})
    table = spark_engine.table(frame, "people_in")

    # missing values arrive as nulls (pandas 3 holds a missing str as NaN, which must
    # not become the string "nan" on the way)
    counts = spark_engine.to_pandas(
        table.aggregate(
            no_id=table.person_id.isnull().sum(),
            no_amount=table.amount.isnull().sum(),
            total=table.amount.sum(),
        )
    )
    assert counts.to_dict("records") == [{"no_id": 1, "no_amount": 1, "total": 4.5}]
    got = spark_engine.to_pandas(table.order_by("amount"))
    assert got["person_id"].tolist()[0] == "p1"
    assert got["amount"].tolist()[:2] == [1.5, 3.0]


def test_to_parquet_writes_a_dataset_and_replaces_an_old_one(
    spark_engine: Any, tmp_path: Path
) -> None:
    table = spark_engine.table(pd.DataFrame({"x": list(range(10))}), "ten")
    out = tmp_path / "out" / "scores.parquet"
    out.parent.mkdir()
    out.write_text("an older single-file result")  # what DuckDB would have left there

    spark_engine.to_parquet(table.filter(table.x >= 5), out)
    assert out.is_dir()
    assert sorted(pd.read_parquet(out)["x"].tolist()) == [5, 6, 7, 8, 9]

    spark_engine.to_parquet(table.filter(table.x < 2), out)
    assert sorted(pd.read_parquet(out)["x"].tolist()) == [0, 1]
    assert [p.name for p in out.parent.iterdir()] == ["scores.parquet"]  # no temporaries


def test_paths_become_uris_spark_resolves_the_same_everywhere(
    spark_engine: Any, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    engine = SparkEngine(
        session=spark_engine.session, data_dir=data, data_url="s3a://bucket/openscore/"
    )
    try:
        assert engine.uri(data / "ledger" / "segments" / "seg-1.parquet") == (
            "s3a://bucket/openscore/ledger/segments/seg-1.parquet"
        )
        assert engine.uri(tmp_path / "elsewhere.parquet") == (
            (tmp_path / "elsewhere.parquet").as_uri()
        )
        assert engine.uri("hdfs://nn:8020/ledger/seg.parquet") == (
            "hdfs://nn:8020/ledger/seg.parquet"
        )
    finally:
        engine.close()
    assert not spark_engine.session.sparkContext._jsc.sc().isStopped()


def test_master_urls_name_what_is_checked() -> None:
    assert master_endpoints("local[2]") == []
    assert master_endpoints("yarn") == []
    assert master_endpoints("spark://m1:7077,m2:7078") == [("m1", 7077), ("m2", 7078)]
    assert master_endpoints("spark://m1") == [("m1", 7077)]
    assert master_endpoints("k8s://https://api.example:6443") == [("api.example", 6443)]
    assert master_endpoints("sc://connect.example") == [("connect.example", 15002)]


@pytest.mark.slow
def test_under_spark_submit_the_submitted_session_is_used(tmp_path: Path) -> None:
    # the production path: spark-submit starts the JVM with its master and settings;
    # openscore must run inside that application, not start a local one of its own
    import pyspark

    script = tmp_path / "job.py"
    script.write_text(
        textwrap.dedent(
            """
            import json
            from openscore.engines.base import get_engine
            engine = get_engine("spark")
            table = engine.table(__import__("pandas").DataFrame({"x": [1, 2, 3]}), "t")
            total = int(engine.to_pandas(table.aggregate(s=table.x.sum()))["s"].iloc[0])
            print(json.dumps({**engine.describe(), "total": total}))
            """
        )
    )
    submit = Path(pyspark.__file__).parent / "bin" / "spark-submit"
    done = subprocess.run(
        [
            str(submit),
            "--master",
            "local[1]",
            "--name",
            "openscore-submitted",
            "--conf",
            "spark.ui.enabled=false",
            "--conf",
            "spark.driver.extraJavaOptions=-XX:TieredStopAtLevel=1",
            str(script),
        ],
        env={
            **os.environ,
            "PYSPARK_PYTHON": sys.executable,
            "PYSPARK_DRIVER_PYTHON": sys.executable,
            "SPARK_LOCAL_IP": "127.0.0.1",
        },
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["master"] == "local[1]"  # spark-submit's, not our local[2] default
    assert out["started_here"] is False
    assert out["total"] == 6
