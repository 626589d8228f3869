"""Apache Spark through Ibis's PySpark backend: the same expressions, on a cluster.

Where the session comes from, in order:

1. a ``session`` handed in (tests share one; an application that already has one);
2. the SparkContext of this process, if one is running (``pyspark`` shell, notebook) or
   the one ``spark-submit`` prepared (``PYSPARK_GATEWAY_PORT`` is set): its master and
   configuration are the submitter's, we only set what correctness needs (UTC);
3. a new one: ``master`` argument, else ``OPENSCORE_SPARK_MASTER``, else ``local[2]``.

Starting a new session can fail in ways that otherwise take minutes or print a JVM
stack trace: no Java (``spark-submit`` exits with "JAVA_HOME is not set"), and a
standalone master that does not answer (Spark retries the registration three times 20 s
apart before it gives up, then fails with "Cannot call methods on a stopped
SparkContext"). Both are checked first and reported as :class:`EngineError` in seconds;
a master that accepts the connection but never registers the application is given
``start_timeout`` seconds, then its JVM is stopped.

Local mode is set up for one machine: a temporary warehouse directory per session (a
leftover ``./spark-warehouse`` breaks the next run), few shuffle partitions (the default
200 turns a small job into thousands of tiny tasks), a driver heap sized to the machine
(the default 1 GB spills at a million people), no web UI, no console progress bar.

The ledger's segments are read in place with the ledger's schema: local paths become
``file://`` URIs (so that a cluster whose default filesystem is HDFS does not look for
them there), URLs (``s3a://``, ``hdfs://``, ``abfss://``, ...) pass through, and with
``data_url`` (``OPENSCORE_SPARK_DATA_URL``) paths under the data directory are read from
that URL instead — the same files, synchronised to where the executors can reach them.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import uuid
import warnings
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import ibis
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa

from openscore.errors import EngineError, InputError

#: the master when nothing else is said: two cores, as on the project's machines
DEFAULT_MASTER = "local[2]"
#: Spark 4 runs on Java 17 or 21
MIN_JAVA = 17
#: seconds to open a TCP connection to the master before calling it unreachable
CONNECT_TIMEOUT = 10.0
#: seconds for a remote master to register the application (Spark's own wait is 60 s+)
START_TIMEOUT = 45.0
#: shuffle partitions per local core; AQE coalesces the small ones
PARTITIONS_PER_CORE = 2
#: set on every session, ours or borrowed (runtime SQL settings only)
SESSION_SQL_CONF = {
    # correctness: day numbers and as-of instants are computed in UTC
    "spark.sql.session.timeZone": "UTC",
    # results come to the driver through Arrow, not pickled row by row
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    # Catalyst derives constraints (IsNotNull, equalities) through every projection; on
    # the scoring expression -- hundreds of aliases, each projection reusing the last --
    # that derivation grows without bound: the optimizer ran for minutes (>5 min on 2,500
    # people) before a job started. It only infers extra filters, which these plans do
    # not need.
    "spark.sql.constraintPropagation.enabled": "false",
}
#: a URL: ``s3a://bucket/x``, and also ``hdfs:/x`` or ``s3a:/bucket/x`` (what pathlib makes
#: of a URL; Hadoop reads ``scheme:/path`` as the scheme's default authority)
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:/")


# -- checks before a JVM is started ------------------------------------------------------


def find_java() -> tuple[str, int]:
    """The ``java`` Spark will run (``$JAVA_HOME/bin/java``, else on PATH) and its version.

    Raises :class:`EngineError` when there is none, it does not run, or it is older than
    Java 17 — what ``spark-submit`` would otherwise report as a bare exit.
    """
    java_home = os.environ.get("JAVA_HOME")
    if java_home:
        java = Path(java_home) / "bin" / "java"
        if not os.access(java, os.X_OK):
            raise EngineError(
                f"JAVA_HOME is {java_home}, which has no bin/java: Spark needs Java "
                f"{MIN_JAVA} or later (fix or unset JAVA_HOME, or use --engine duckdb)"
            )
        found = str(java)
    else:
        found = shutil.which("java") or ""
        if not found:
            raise EngineError(
                f"no Java found (JAVA_HOME is not set and java is not on PATH): Spark needs "
                f"Java {MIN_JAVA} or later, e.g. apt-get install openjdk-17-jre-headless "
                f"(or use --engine duckdb)"
            )
    try:
        done = subprocess.run(
            [found, "-version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise EngineError(f"{found} -version did not run: {exc}") from None
    match = re.search(r'version "(\d+)(?:\.(\d+))?', done.stderr + done.stdout)
    if done.returncode != 0 or match is None:
        first = (done.stderr or done.stdout).strip().splitlines()[:1]
        raise EngineError(f"{found} -version failed: {' '.join(first) or 'no output'}")
    major = int(match.group(1))
    if major == 1:  # "1.8.0_392" is Java 8
        major = int(match.group(2) or 0)
    if major < MIN_JAVA:
        raise EngineError(
            f"{found} is Java {major}; Spark 4 needs Java {MIN_JAVA} or later "
            f"(set JAVA_HOME to a newer JDK)"
        )
    return found, major


def master_endpoints(master: str) -> list[tuple[str, int]]:
    """The (host, port) pairs a master URL makes the driver connect to (none for local).

    ``spark://h1:7077,h2:7077`` (standalone, with standby masters), ``k8s://https://h:443``
    (the API server) and ``sc://h:15002`` (Spark Connect). YARN's resource manager comes
    from the Hadoop configuration, not the URL: it is not checked here.
    """
    if master.startswith("spark://"):
        hosts = master[len("spark://") :].split("/")[0]
        out = []
        for item in hosts.split(","):
            host, _, port = item.rpartition(":")
            out.append((host or item, int(port) if port.isdigit() else 7077))
        return out
    if master.startswith("k8s://"):
        url = master[len("k8s://") :]
        url = url if "://" in url else f"https://{url}"
        parts = urlsplit(url)
        k8s_port = parts.port or (443 if parts.scheme == "https" else 80)
        return [(parts.hostname or "", k8s_port)]
    if master.startswith("sc://"):
        parts = urlsplit(master)
        return [(parts.hostname or "", parts.port or 15002)]
    return []


def check_master(master: str, timeout: float = CONNECT_TIMEOUT) -> None:
    """Raise :class:`EngineError` unless one of the master's endpoints takes a connection."""
    endpoints = master_endpoints(master)
    failures = []
    for host, port in endpoints:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                return
        except TimeoutError:
            failures.append(f"{host}:{port} did not answer within {timeout:g} s")
        except OSError as exc:
            failures.append(f"{host}:{port}: {exc.strerror or exc}")
    if failures:
        raise EngineError(
            f"the Spark master {master} does not answer ({'; '.join(failures)}): check "
            f"OPENSCORE_SPARK_MASTER and that the master is running and reachable"
        )


def is_local(master: str) -> bool:
    return master == "local" or master.startswith("local[") or master.startswith("local-")


def local_cores(master: str) -> int:
    """Cores of a ``local[N]`` master (``local[*]``: the machine's)."""
    match = re.match(r"local\[(\*|\d+)", master)
    if master == "local":
        return 1
    if match is None or match.group(1) == "*":
        return os.cpu_count() or 1
    return max(1, int(match.group(1)))


def default_driver_memory() -> str:
    """A quarter of the machine's memory, 1-8 GB: in local mode the driver does all work."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):  # pragma: no cover - non-POSIX
        return "2g"
    return f"{max(1, min(8, total // 4 // 2**30))}g"


# -- the engine ---------------------------------------------------------------------------


class SparkEngine:
    """Ibis on PySpark: local mode by default, a cluster via the master URL or spark-submit.

    ``conf`` is applied last and wins over every default here (``spark.driver.memory``,
    ``spark.sql.shuffle.partitions`` ...). ``data_url`` maps ``data_dir`` (default: the
    settings') to a URL the executors read, e.g. ``s3a://bucket/openscore``.
    """

    name = "spark"

    def __init__(
        self,
        *,
        master: str | None = None,
        session: Any | None = None,
        app_name: str = "openscore",
        conf: Mapping[str, str] | None = None,
        shuffle_partitions: int | None = None,
        connect_timeout: float | None = None,
        start_timeout: float | None = None,
        data_url: str | None = None,
        data_dir: Path | None = None,
    ) -> None:
        from openscore.config import get_settings

        settings = get_settings()
        env = _environment()
        self._warehouse: str | None = None
        self._owns_session = False
        self._data_url = (data_url or env["data_url"] or "").rstrip("/") or None
        self._data_dir = Path(data_dir or settings.data_dir).expanduser().resolve()
        if session is None:
            session = self._active_session()
        if session is None:
            session = self._new_session(
                master or settings.spark_master or DEFAULT_MASTER,
                app_name=app_name,
                conf=dict(conf or {}),
                shuffle_partitions=shuffle_partitions,
                connect_timeout=connect_timeout or env["connect_timeout"] or CONNECT_TIMEOUT,
                start_timeout=start_timeout or env["start_timeout"] or START_TIMEOUT,
                log_level=env["log_level"],
            )
        self._session = session
        for key, value in SESSION_SQL_CONF.items():
            session.conf.set(key, value)
        self._con = ibis.pyspark.connect(session)

    # -- session ---------------------------------------------------------------------------

    @staticmethod
    def _active_session() -> Any | None:
        """The session of a SparkContext already running here, or spark-submit's."""
        from pyspark import SparkContext
        from pyspark.sql import SparkSession

        if SparkContext._active_spark_context is None and (
            "PYSPARK_GATEWAY_PORT" not in os.environ
        ):
            return None
        return SparkSession.builder.getOrCreate()

    def _new_session(
        self,
        master: str,
        *,
        app_name: str,
        conf: dict[str, str],
        shuffle_partitions: int | None,
        connect_timeout: float,
        start_timeout: float,
        log_level: str | None,
    ) -> Any:
        from pyspark.sql import SparkSession

        find_java()
        check_master(master, connect_timeout)
        self._warehouse = tempfile.mkdtemp(prefix="openscore-spark-warehouse-")
        settings: dict[str, str] = {
            "spark.sql.warehouse.dir": Path(self._warehouse).as_uri(),
            "spark.ui.showConsoleProgress": "false",
            **SESSION_SQL_CONF,
            # an HDFS namenode that does not answer: ~30 s, not Hadoop's 45 x 20 s
            "spark.hadoop.ipc.client.connect.timeout": "10000",
            "spark.hadoop.ipc.client.connect.max.retries.on.timeouts": "2",
        }
        if not os.environ.get("PYSPARK_PYTHON"):
            # batch scoring runs the kernel in Python workers (mapInArrow): this Python,
            # with openscore and numpy, not whatever `python3` is first on PATH (PySpark
            # reads only the environment variable, when the context starts)
            os.environ["PYSPARK_PYTHON"] = sys.executable
        if is_local(master):
            os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
            partitions = shuffle_partitions or PARTITIONS_PER_CORE * local_cores(master)
            settings.update(
                {
                    "spark.ui.enabled": "false",
                    "spark.driver.memory": default_driver_memory(),
                    "spark.sql.shuffle.partitions": str(partitions),
                    # the executor lives in the driver's JVM: a heartbeat missed while the
                    # machine is busy would "lose" it, and a lost local executor hangs the
                    # job for good (seen at 1 M people on a loaded 2-core machine)
                    "spark.network.timeout": "900s",
                    "spark.executor.heartbeatInterval": "60s",
                }
            )
        elif shuffle_partitions:
            settings["spark.sql.shuffle.partitions"] = str(shuffle_partitions)
        settings.update(conf)
        builder = SparkSession.builder.master(master).appName(app_name)
        for key, value in settings.items():
            builder = builder.config(key, value)
        try:
            if is_local(master):
                session = builder.getOrCreate()
            else:
                session = _start_within(builder, master, start_timeout)
        except EngineError:
            self._remove_warehouse()
            raise
        except Exception as exc:
            self._remove_warehouse()
            raise EngineError(f"Spark did not start ({master}): {_first_line(exc)}") from exc
        # task failures come back to the caller as one clear error; in local mode Spark's
        # own ERROR lines (a stack trace per failed task) would only repeat it
        session.sparkContext.setLogLevel(log_level or ("FATAL" if is_local(master) else "ERROR"))
        self._owns_session = True
        return session

    def _remove_warehouse(self) -> None:
        if self._warehouse:
            shutil.rmtree(self._warehouse, ignore_errors=True)
            self._warehouse = None

    @property
    def con(self) -> Any:
        """The Ibis PySpark backend."""
        return self._con

    @property
    def session(self) -> Any:
        """The SparkSession (for explain plans and Spark-only settings)."""
        return self._session

    def describe(self) -> dict[str, Any]:
        """Where this engine runs: master, versions, parallelism (``openscore engine check``)."""
        sc = self._session.sparkContext
        return {
            "master": sc.master,
            "spark": self._session.version,
            "java": sc._jvm.System.getProperty("java.version"),
            "parallelism": sc.defaultParallelism,
            "shuffle_partitions": int(self._session.conf.get("spark.sql.shuffle.partitions")),
            "application": sc.applicationId,
            "started_here": self._owns_session,
        }

    # -- reading ---------------------------------------------------------------------------

    def uri(self, path: str | Path) -> str:
        """What Spark should open for ``path``: URLs as given, local files as ``file://``."""
        text = str(path)
        if _SCHEME.match(text):
            return text
        local = Path(text).expanduser().resolve()
        if self._data_url and local.is_relative_to(self._data_dir):
            return f"{self._data_url}/{local.relative_to(self._data_dir).as_posix()}"
        return local.as_uri()

    def read_parquet(self, paths: Sequence[str | Path] | str | Path) -> ir.Table:
        """Parquet files (or directories of them) as one table."""
        paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
        uris = [self.uri(p) for p in paths]
        with _spark_errors(uris):
            frame = self._session.read.parquet(*uris)
        return self._view(frame, "parquet")

    def ledger(self, paths: Sequence[str | Path]) -> ir.Table:
        """The ledger's segments, read in place with the ledger's schema."""
        from pyspark.sql.pandas.types import from_arrow_schema

        from openscore.domain.events import LEDGER_SCHEMA

        schema = from_arrow_schema(LEDGER_SCHEMA)
        if not paths:
            frame = self._session.createDataFrame([], schema)
        else:
            uris = [self.uri(p) for p in paths]
            with _spark_errors(uris):
                frame = self._session.read.schema(schema).parquet(*uris)
        return self._view(frame, "ledger")

    def table(self, df: pd.DataFrame | pa.Table, name: str) -> ir.Table:
        """A driver-side frame as a temporary view (``name``) on the cluster."""
        data = df if isinstance(df, pa.Table) else pa.Table.from_pandas(df, preserve_index=False)
        # Spark's Arrow reader takes plain strings, not pandas 3's large_string
        data = data.cast(
            pa.schema(
                pa.field(f.name, pa.string()) if pa.types.is_large_string(f.type) else f
                for f in data.schema
            )
        )
        frame = self._session.createDataFrame(data)
        frame.createOrReplaceTempView(name)
        return self._con.table(name)

    def _view(self, frame: Any, prefix: str) -> ir.Table:
        name = f"openscore_{prefix}_{uuid.uuid4().hex[:12]}"
        frame.createOrReplaceTempView(name)
        return self._con.table(name)

    # -- running ---------------------------------------------------------------------------

    def dataframe(self, expr: ir.Table) -> Any:
        """The Spark DataFrame of an expression (lazy: nothing runs yet)."""
        return self._session.sql(self._con.compile(expr))

    def to_pandas(self, expr: ir.Table) -> pd.DataFrame:
        """Run the expression and bring the result to the driver (through Arrow)."""
        with _spark_errors(), warnings.catch_warnings():
            # pyspark warns, then raises, when a job fails under Arrow: the raise suffices
            warnings.filterwarnings("ignore", message="toPandas attempted Arrow")
            return self._con.execute(expr)

    def to_parquet(self, expr: ir.Table, path: str | Path) -> None:
        """Write the result as a Parquet dataset: a directory of part files at ``path``.

        A local directory appears complete or not at all (written beside it, then renamed);
        on an object store Spark's committer publishes the parts.
        """
        target = self.uri(path)
        frame = self.dataframe(expr)
        writer = frame.write.option("compression", "zstd")
        if not target.startswith("file:"):
            with _spark_errors([target]):
                writer.mode("overwrite").parquet(target)
            return
        final = Path(urlsplit(target).path)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.with_name(f".{final.name}.tmp-{uuid.uuid4().hex[:8]}")
        try:
            with _spark_errors([target]):
                writer.mode("overwrite").parquet(tmp.as_uri())
            if final.is_dir() and not final.is_symlink():
                shutil.rmtree(final)
            elif final.exists() or final.is_symlink():
                final.unlink()
            tmp.rename(final)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def close(self) -> None:
        """Stop the session if this engine started it; a borrowed one is left running."""
        from openscore.engines.base import release_cached

        with contextlib.suppress(Exception):  # a session already stopped has nothing cached
            release_cached(self._con)
        if self._owns_session:
            self._session.stop()
            self._owns_session = False
        self._remove_warehouse()


# -- helpers ------------------------------------------------------------------------------


def _environment() -> dict[str, Any]:
    """Spark settings read from the environment beside ``Settings.spark_master``.

    ``OPENSCORE_SPARK_DATA_URL`` (where executors read the data directory),
    ``OPENSCORE_SPARK_CONNECT_TIMEOUT`` and ``OPENSCORE_SPARK_START_TIMEOUT`` (seconds),
    ``OPENSCORE_SPARK_LOG_LEVEL`` (Spark's log level for a session started here; default
    FATAL in local mode, ERROR on a cluster).
    """

    def seconds(name: str) -> float | None:
        value = os.environ.get(name)
        if not value:
            return None
        try:
            out = float(value)
        except ValueError:
            raise InputError(f"must be a number of seconds, got {value!r}", field=name) from None
        if out <= 0:
            raise InputError(f"must be positive, got {value!r}", field=name)
        return out

    return {
        "log_level": (os.environ.get("OPENSCORE_SPARK_LOG_LEVEL") or "").upper() or None,
        "data_url": os.environ.get("OPENSCORE_SPARK_DATA_URL") or None,
        "connect_timeout": seconds("OPENSCORE_SPARK_CONNECT_TIMEOUT"),
        "start_timeout": seconds("OPENSCORE_SPARK_START_TIMEOUT"),
    }


def _start_within(builder: Any, master: str, timeout: float) -> Any:
    """``builder.getOrCreate()`` for a remote master, given up after ``timeout`` seconds.

    Spark waits for the master to register the application for 3 x 20 s and cannot be
    told otherwise; past our deadline the JVM we launched is stopped, which ends the
    wait.
    """
    from pyspark import SparkContext

    result: dict[str, Any] = {}

    def start() -> None:
        try:
            result["session"] = builder.getOrCreate()
        except BaseException as exc:
            result["error"] = exc

    thread = threading.Thread(target=start, name="openscore-spark-start", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        gateway = SparkContext._gateway
        proc = getattr(gateway, "proc", None)
        if proc is not None:
            proc.kill()
        thread.join(10)
        SparkContext._gateway = None
        SparkContext._jvm = None
        SparkContext._active_spark_context = None
        raise EngineError(
            f"the Spark master {master} accepted the connection but did not register the "
            f"application within {timeout:g} s: is it a Spark {_spark_version()} standalone "
            f"master with a free worker?"
        )
    if "error" in result:
        raise EngineError(
            f"Spark did not start on {master}: {_first_line(result['error'])}"
        ) from result["error"]
    return result["session"]


def _spark_version() -> str:
    import pyspark

    return pyspark.__version__


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("at ", "JVM stacktrace")):
            return line[:500]
    return type(exc).__name__


@contextlib.contextmanager
def _spark_errors(paths: Sequence[str] = ()) -> Iterator[None]:
    """Spark's exceptions as openscore's: an unreadable input names its path."""
    from py4j.protocol import Py4JError
    from pyspark.errors import PySparkException

    try:
        yield
    except (PySparkException, Py4JError) as exc:
        raise _translate(exc, paths) from exc


def _java_chain(exc: BaseException) -> list[str]:
    """``Class: message`` of the Java exception behind ``exc`` and each of its causes."""
    throwable = getattr(exc, "java_exception", None) or getattr(exc, "_origin", None)
    out: list[str] = []
    with contextlib.suppress(Exception):
        while throwable is not None and len(out) < 12:
            out.append(f"{throwable.getClass().getName()}: {throwable.getMessage()}")
            throwable = throwable.getCause()
    return out


def _translate(exc: BaseException, paths: Sequence[str]) -> Exception:
    chain = _java_chain(exc)
    text = "\n".join([str(exc), *chain])
    params: dict[str, str] = {}
    with contextlib.suppress(Exception):
        params = dict(exc.getMessageParameters() or {})  # type: ignore[attr-defined]
    path = params.get("path") or _mentioned(text, paths)
    deepest = chain[-1] if chain else _first_line(exc)
    scheme = re.search(r'No FileSystem for scheme "?([\w+.-]+)', text)
    if scheme or re.search(r"ClassNotFoundException: Class \S+FileSystem not found", text):
        name = scheme.group(1) if scheme else urlsplit(path or _first(paths) or "").scheme
        return InputError(
            f"Spark has no filesystem for {name}:// URLs: add its Hadoop connector "
            f"(e.g. spark.jars.packages=org.apache.hadoop:hadoop-aws for s3a)",
            path=path or _first_with_scheme(paths, name),
        )
    if "PATH_NOT_FOUND" in text or "Path does not exist" in text:
        return InputError("Spark cannot find this file", path=path or _first(paths))
    if path and ("FAILED_READ_FILE" in text or "not a Parquet file" in text):
        return InputError(f"Spark cannot read this file: {_strip_class(deepest)}", path=path)
    if re.search(r"ConnectException|UnknownHost|NoRouteToHost|SocketTimeout|RpcException", text):
        return InputError(
            f"Spark cannot reach where this file lives: {_strip_class(deepest)}",
            path=path or _first(paths),
        )
    return EngineError(f"Spark failed: {_strip_class(deepest)}")


def _strip_class(line: str) -> str:
    """``java.lang.RuntimeException: file:/x is not ...`` -> ``file:/x is not ...``."""
    return re.sub(r"^(?:[\w$]+\.)+[\w$]+(?:Exception|Error): ", "", line.strip())[:400]


def _mentioned(text: str, paths: Sequence[str]) -> str | None:
    for p in paths:
        plain = urlsplit(p).path if p.startswith("file:") else p
        if p in text or (plain and plain in text):
            return p
    match = re.search(r"(file:/\S+?\.parquet)", text)
    return match.group(1) if match else None


def _first(paths: Sequence[str]) -> str | None:
    return paths[0] if paths else None


def _first_with_scheme(paths: Sequence[str], scheme: str) -> str | None:
    return next((p for p in paths if p.startswith(f"{scheme}:")), _first(paths))
