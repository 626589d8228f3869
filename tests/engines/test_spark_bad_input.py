"""Bad input for the Spark engine: a clear message within 60 s, never a hang.

Starting Spark is tested in fresh processes (``openscore engine check --engine spark``),
the way an operator meets it: a process can hold one SparkContext, and the test run's
shared one would be reused instead of started. Unreadable ledgers are tested on the
shared session.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from openscore.errors import EngineError, InputError, OpenscoreError
from openscore.features import build_features

pytestmark = pytest.mark.spark

LIMIT = 60  # seconds: the bound for a clear message


def engine_check(env: dict[str, str], *, drop: tuple[str, ...] = ()) -> tuple[int, str, float]:
    """Run ``openscore engine check --engine spark``; exit code, stderr, seconds."""
    full = {k: v for k, v in os.environ.items() if k not in drop} | env
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "openscore", "engine", "check", "--engine", "spark"],
        env=full,
        capture_output=True,
        text=True,
        timeout=LIMIT + 30,
    )
    return done.returncode, done.stderr, time.perf_counter() - start


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_no_java_is_an_engine_error(tmp_path: Path) -> None:
    # a PATH with this Python but no java, and no JAVA_HOME
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python").symlink_to(sys.executable)
    code, err, seconds = engine_check({"PATH": str(bin_dir)}, drop=("JAVA_HOME",))

    assert code == EngineError.exit_code, err
    assert "no Java found" in err and "Java 17" in err
    assert "Traceback" not in err
    assert seconds < LIMIT


def test_java_home_without_java_names_it(tmp_path: Path) -> None:
    code, err, seconds = engine_check({"JAVA_HOME": str(tmp_path)})

    assert code == EngineError.exit_code, err
    assert f"JAVA_HOME is {tmp_path}" in " ".join(err.split())
    assert seconds < LIMIT


def test_a_master_that_refuses_the_connection() -> None:
    port = free_port()
    code, err, seconds = engine_check({"OPENSCORE_SPARK_MASTER": f"spark://127.0.0.1:{port}"})

    assert code == EngineError.exit_code, err
    assert f"the Spark master spark://127.0.0.1:{port} does not answer" in " ".join(err.split())
    assert "Traceback" not in err
    assert seconds < 20  # checked before any JVM starts


@pytest.fixture()
def silent_master() -> Iterator[int]:
    """A port that accepts connections and never says a word (a hung or wrong service)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(2)
    for conn in held:
        conn.close()
    server.close()


@pytest.mark.slow
def test_a_master_that_accepts_but_never_answers(silent_master: int) -> None:
    # Spark alone would wait 3 x 20 s for the registration, then fail obscurely
    code, err, seconds = engine_check(
        {
            "OPENSCORE_SPARK_MASTER": f"spark://127.0.0.1:{silent_master}",
            "OPENSCORE_SPARK_START_TIMEOUT": "20",
        }
    )

    assert code == EngineError.exit_code, err[-2000:]
    message = " ".join(err.split())
    assert "accepted the connection but did not register the application within 20 s" in message
    assert seconds < LIMIT


def test_a_bad_timeout_setting_is_an_input_error() -> None:
    code, err, _ = engine_check({"OPENSCORE_SPARK_START_TIMEOUT": "soon"})

    assert code == InputError.exit_code, err
    assert "OPENSCORE_SPARK_START_TIMEOUT" in err and "'soon'" in err


# -- ledgers Spark cannot read (shared session) ------------------------------------------------


def features_of(engine: Any, paths: list[str | Path]) -> None:
    engine.to_pandas(build_features(engine.ledger(paths), date(2026, 6, 30)))


def timed_error(engine: Any, paths: list[str | Path]) -> tuple[OpenscoreError, float]:
    start = time.perf_counter()
    with pytest.raises(OpenscoreError) as info:
        features_of(engine, paths)
    return info.value, time.perf_counter() - start


def test_a_missing_segment_names_its_path(spark_engine: Any, tmp_path: Path) -> None:
    missing = tmp_path / "ledger" / "segments" / "seg-gone.parquet"
    error, seconds = timed_error(spark_engine, [missing])

    assert isinstance(error, InputError)
    assert str(missing) in error.message and "cannot find" in error.message
    assert seconds < LIMIT


def test_a_segment_that_is_not_parquet_names_its_path(spark_engine: Any, tmp_path: Path) -> None:
    bad = tmp_path / "seg-bad.parquet"
    bad.write_text("person_id,amount\np1,12\n")
    error, seconds = timed_error(spark_engine, [bad])

    assert isinstance(error, InputError)
    assert str(bad) in error.message and "not a Parquet file" in error.message
    assert seconds < LIMIT


def test_a_url_scheme_spark_has_no_filesystem_for(spark_engine: Any) -> None:
    url = "s3a://openscore-ledger/segments/seg-1.parquet"
    error, seconds = timed_error(spark_engine, [url])

    assert isinstance(error, InputError)
    assert url in error.message and "no filesystem for s3a://" in error.message
    assert seconds < LIMIT


def test_an_hdfs_namenode_that_does_not_answer(spark_engine: Any) -> None:
    url = f"hdfs://127.0.0.1:{free_port()}/openscore/ledger/segments/seg-1.parquet"
    error, seconds = timed_error(spark_engine, [url])

    assert isinstance(error, InputError)
    assert url in error.message and "cannot reach" in error.message
    assert seconds < LIMIT


def test_an_unknown_engine_name() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "openscore", "engine", "check", "--engine", "flink"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == InputError.exit_code
    assert "unknown engine 'flink'" in done.stderr
