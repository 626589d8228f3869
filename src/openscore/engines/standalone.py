"""A Spark standalone cluster on this machine: one master and N workers on 127.0.0.1.

Started with the pyspark package's own launcher (``bin/spark-class
org.apache.spark.deploy.master.Master`` and ``...deploy.worker.Worker spark://...``), the
same processes a real standalone cluster runs, only all on one host. The cluster test
(``tests/engines/test_spark_cluster.py``) and ``benchmarks/engines.py --engines
duckdb,spark-cluster`` use it to run ``openscore ... --engine spark`` with
``OPENSCORE_SPARK_MASTER`` pointing at it; ``docs/scale.md`` says how to do the same on
real machines.

Each process is started by us and stopped by us (by its process id; ``spark-class``
execs the JVM, so the id is the JVM's). The workers get the ``PYTHONPATH`` of the process
that starts them, made absolute, with this openscore's source first: their executors'
Python workers (batch scoring runs the kernel there, ``mapInArrow``) import the same
openscore as the driver, as every node of a real cluster runs the same installation.

``confined`` makes the workers (and so their executors) subject to file permissions
like any other user, which is how a test makes "a ledger path a worker cannot read"
real. As root -- which reads every file -- they keep uid 0 but are started through
``setpriv`` without the two capabilities that bypass permission checks
(``CAP_DAC_OVERRIDE``, ``CAP_DAC_READ_SEARCH``): a file with mode 000 is then unreadable
to them and still readable to the driver. (Not a switch to ``nobody``: its executors could
not run a Python that lives under ``/root``, e.g. a pyenv install, and everything they
write would need loosened permissions.) As any other user nothing needs changing.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from openscore.engines.spark import find_java
from openscore.errors import EngineError

#: seconds for the master to answer and the workers to register with it
READY_TIMEOUT = 90.0


def spark_home() -> Path:
    """The Spark distribution inside the pyspark package (its ``bin/``, ``jars/``)."""
    import pyspark

    return Path(pyspark.__file__).resolve().parent


def python_path() -> str:
    """This openscore's source directory, then ``PYTHONPATH``'s entries made absolute."""
    source = str(Path(__file__).resolve().parents[2])
    entries = [
        str(Path(p).resolve()) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p
    ]
    return os.pathsep.join(dict.fromkeys([source, *entries]))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class StandaloneCluster:
    """A master and ``workers`` workers (``cores`` and ``memory`` each) on 127.0.0.1."""

    workers: int = 2
    cores: int = 1
    memory: str = "1g"
    confined: bool = False
    workdir: Path | None = None
    master_url: str = ""
    web_url: str = ""
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    _own_workdir: bool = False

    # -- starting ------------------------------------------------------------------------

    def start(self, timeout: float = READY_TIMEOUT) -> StandaloneCluster:
        find_java()
        self._confinement()  # fail before anything starts
        if self.workdir is None:
            self.workdir = Path(tempfile.mkdtemp(prefix="openscore-spark-cluster-"))
            self._own_workdir = True
        self.workdir.mkdir(parents=True, exist_ok=True)
        port, web = free_port(), free_port()
        self.master_url = f"spark://127.0.0.1:{port}"
        self.web_url = f"http://127.0.0.1:{web}"
        try:
            self._launch(
                "master",
                "org.apache.spark.deploy.master.Master",
                ["--host", "127.0.0.1", "--port", str(port), "--webui-port", str(web)],
            )
            self._wait(lambda s: s is not None, timeout, "the master did not start")
            for i in range(1, self.workers + 1):
                self.start_worker(f"worker-{i}")
            self._wait(
                lambda s: s is not None and s.get("aliveworkers", 0) >= self.workers,
                timeout,
                f"{self.workers} workers did not register with the master",
            )
        except BaseException:
            self.stop()
            raise
        return self

    def start_worker(self, name: str) -> subprocess.Popen:
        """Start one more worker (also to replace one that was killed)."""
        scratch = self._dir() / name
        scratch.mkdir(exist_ok=True)
        return self._launch(
            name,
            "org.apache.spark.deploy.worker.Worker",
            [
                self.master_url,
                "--host",
                "127.0.0.1",
                "--cores",
                str(self.cores),
                "--memory",
                self.memory,
                "--webui-port",
                str(free_port()),
                "--work-dir",
                str(scratch),
            ],
            prefix=self._confinement(),
        )

    def _confinement(self) -> list[str]:
        """The command that starts a confined worker (empty: none needed)."""
        if not self.confined or os.geteuid() != 0:
            return []
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            raise EngineError(
                "a confined worker run as root needs setpriv (Debian package util-linux; "
                "bash scripts/system-deps.sh installs it)"
            )
        return [setpriv, "--bounding-set=-dac_override,-dac_read_search"]

    def _launch(
        self, name: str, cls: str, args: list[str], prefix: list[str] | None = None
    ) -> subprocess.Popen:
        workdir = self._dir()
        home = spark_home()
        env = {
            **os.environ,
            "SPARK_HOME": str(home),
            "SPARK_LOCAL_IP": "127.0.0.1",
            "SPARK_LOG_DIR": str(workdir),
            # small daemons: the work happens in the executors the workers start; they
            # mostly wait, so the quick JIT tier and the serial GC are enough
            "SPARK_DAEMON_MEMORY": "256m",
            "SPARK_DAEMON_JAVA_OPTS": os.environ.get("SPARK_DAEMON_JAVA_OPTS")
            or "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
            "PYTHONPATH": python_path(),
        }
        log = open(workdir / f"{name}.log", "ab")
        proc = subprocess.Popen(
            [*(prefix or []), str(home / "bin" / "spark-class"), cls, *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=workdir,
            start_new_session=True,
        )
        log.close()
        self.processes[name] = proc
        return proc

    def _dir(self) -> Path:
        if self.workdir is None:
            raise EngineError("the standalone cluster is not started (call start())")
        return self.workdir

    def state(self) -> dict | None:
        """The master's view (its web UI's JSON: workers, applications), None if down."""
        try:
            with urllib.request.urlopen(f"{self.web_url}/json/", timeout=5) as r:
                return json.loads(r.read())
        except (OSError, ValueError):
            return None

    def _wait(self, ready, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, proc in self.processes.items():
                if proc.poll() is not None:
                    raise EngineError(f"{what}: {name} exited ({self.log_tail(name)})")
            if ready(self.state()):
                return
            time.sleep(0.5)
        raise EngineError(f"{what} within {timeout:g} s (logs in {self.workdir})")

    def log_tail(self, name: str, lines: int = 5) -> str:
        path = self._dir() / f"{name}.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return " | ".join(text.strip().splitlines()[-lines:])

    # -- stopping ------------------------------------------------------------------------

    def kill(self, name: str) -> None:
        """Kill one process of the cluster at once (SIGKILL: as if its machine died)."""
        proc = self.processes[name]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(30)

    def stop(self) -> None:
        """Stop the workers, then the master (each by its own process group); clean up."""
        for name in sorted(self.processes, key=lambda n: n == "master"):
            proc = self.processes[name]
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(10)
        self.processes.clear()
        if self._own_workdir and self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> StandaloneCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def standalone_cluster(**options: object) -> Iterator[StandaloneCluster]:
    """``with standalone_cluster(workers=2) as c: ... c.master_url ...``; stopped after."""
    cluster = StandaloneCluster(**options)  # type: ignore[arg-type]
    with cluster:
        yield cluster
