"""What every benchmark shares: timing a command in a child process, peak memory, results.

Each benchmark runs from one command, measures openscore against a named baseline in the
same run, writes ``benchmarks/results/<name>.json`` and appends a line to
``docs/benchmarks.md``.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
WORK = ROOT / "benchmarks" / "work"
DOC = ROOT / "docs" / "benchmarks.md"


@dataclass
class Run:
    seconds: float
    peak_rss_mb: float
    stdout: str


def run_measured(cmd: list[str], *, env: dict | None = None, cwd: Path | None = None) -> Run:
    """Run a child process; wall time and the peak RSS of it and its children (sampled)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
    )
    ps = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        try:
            rss = ps.memory_info().rss + sum(c.memory_info().rss for c in ps.children(True))
            peak = max(peak, rss)
        except psutil.Error:
            pass
        time.sleep(0.05)
    out, err = proc.communicate()
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err[-3000:]}")
    return Run(seconds, peak / 2**20, out)


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def machine() -> dict:
    return {
        "cpus": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def save(
    name: str,
    figures: dict,
    summary: str,
    command: str,
    *,
    when: str | datetime | None = None,
    path: Path | None = None,
    doc: bool = True,
) -> Path:
    """Write the results file and add the summary line to docs/benchmarks.md.

    ``when`` is the time of the measurement (default: now); give it to save figures
    measured earlier (an ISO date or timestamp, or a datetime). ``figures`` may carry their
    own ``machine`` (e.g. one recorded with the measurement); it replaces the current
    machine's. ``path`` writes the results elsewhere than ``benchmarks/results/<name>.json``;
    ``doc=False`` leaves docs/benchmarks.md alone (for trial runs), the line is only printed.
    """
    if when is None:
        when = datetime.now(UTC).isoformat(timespec="seconds")
    elif isinstance(when, datetime):
        when = when.isoformat(timespec="seconds")
    else:
        datetime.fromisoformat(when)  # refuse anything that is not an ISO date or time
    body = {
        "benchmark": name,
        "when": when,
        "command": command,
        "machine": machine(),
        **figures,
    }
    path = path or RESULTS / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(body, indent=2) + "\n")
    line = f"- **{name}** ({body['when'][:10]}, `{command}`): {summary}"
    print(line)
    if not doc:
        return path
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    marker = f"- **{name}** ("
    lines = [x for x in text.splitlines() if not x.startswith(marker)]
    if "## Latest figures" not in text:
        lines += ["", "## Latest figures", ""]
    lines.append(line)
    DOC.write_text("\n".join(lines).rstrip() + "\n")
    return path
