"""Benchmark: a consent revocation to the new published score on a 100 M-event ledger,
through a real ``openscore serve`` on 127.0.0.1, against a named baseline in the same run.

    .venv/bin/python benchmarks/revocation.py [--events 100000000] [--revocations 8]
        [--backends sqlite,postgresql] [--baseline b6f0445] [--reuse-ledger]
        [--baseline-layout]

What it does:

1. a compacted ledger of ``--events`` events (``--people`` people) is built once, through
   the ledger's writer (``decisions.build_ledger``), in the layout this tree's compaction
   writes (``ROW_GROUPS_PER_SEGMENT``), under ``benchmarks/work/revocation/ledger-rg<N>``;
   ``--reuse-ledger`` keeps one built before (earlier purges stay: subjects are people
   whose wallet rows are still there);
2. the baseline is the code of ``--baseline`` (a commit), unpacked with ``git archive``
   into ``benchmarks/work/revocation/baseline-<commit>``; its server runs that tree's
   ``src`` on the *same* ledger (``--baseline-layout``: also on a ledger in the layout
   the baseline's own compaction writes, built once more, to show the layout's share);
3. for each backend, the servers of one ledger share one registry (a fresh SQLite file or
   PostgreSQL database), as two versions of a service would while one replaces the
   other: the subjects are registered with a log-in, share every source and get a
   published score; every server (``openscore serve``, production settings, 1 worker,
   housekeeping on) starts and the benchmark waits for the first expiry pass (it scans
   the whole ledger once at start) so that the revocations are timed alone;
4. the revocations go in rounds, one per server in turn, so that whatever else loads the
   machine loads them alike: a subject logs in, then calls ``DELETE
   /v1/me/consents/wallet``. The call's wall time, measured by the client, is the
   revocation to the new published score (registry, ledger purge, rescore from the
   ledger, publish); the server's CPU time over the call is reported beside it (it does
   not count the wait for a core on a busy machine). After each call the benchmark checks
   that no wallet row of the subject is left.

Results: ``benchmarks/results/revocation.json`` and a line in ``docs/benchmarks.md``,
with the load average (other work shares the machine's cores).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
# this tree's code, whatever the virtualenv's editable install points at
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from common import ROOT, WORK, save
from decisions import (
    AS_OF,
    PASSWORD,
    SECRET,
    build_ledger,
    drop_database,
    free_port,
    make_registry,
    percentile,
    person_id,
    populate,
    server_cpu_seconds,
    server_env,
    start_server,
    stop_server,
)

BENCH = WORK / "revocation"
#: main just before this work (one compacted file = two row groups, the purge's search
#: under the writer lock, one-person reads through pyarrow datasets)
DEFAULT_BASELINE = "b6f0445"


def baseline_tree(commit: str) -> tuple[str, Path]:
    """The baseline's ``src``, unpacked from git once per commit."""
    sha = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--verify", f"{commit}^{{commit}}"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    tree = BENCH / f"baseline-{sha[:12]}"
    if not (tree / "src" / "openscore").is_dir():
        shutil.rmtree(tree, ignore_errors=True)
        tree.mkdir(parents=True)
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", "--format=tar", sha, "src"],
            check=True,
            capture_output=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    return sha, tree / "src"


def layout_of(src: Path) -> int:
    """``ROW_GROUPS_PER_SEGMENT`` of the code under ``src``."""
    text = (src / "openscore" / "ledger" / "compaction.py").read_text()
    found = re.search(r"^ROW_GROUPS_PER_SEGMENT = (\d+)$", text, re.MULTILINE)
    if found is None:
        raise SystemExit(f"{src}: no ROW_GROUPS_PER_SEGMENT in ledger/compaction.py")
    return int(found.group(1))


def ledger_for(layout: int, args: argparse.Namespace) -> tuple[Path, dict]:
    """The data directory of a compacted ledger in ``layout`` (row groups per file)."""
    root = BENCH / f"ledger-rg{layout}"
    data, info_file = root / "data", root / "ledger.json"
    per_person = max(1, args.events // args.people)
    if args.reuse_ledger and info_file.exists():
        info = json.loads(info_file.read_text())
        if info["events"] != args.people * per_person:
            raise SystemExit(f"{root} holds {info['events']:,} events: drop --reuse-ledger")
        for stale in ("runs", "tmp"):
            shutil.rmtree(data / stale, ignore_errors=True)
    else:
        shutil.rmtree(root, ignore_errors=True)
        data.mkdir(parents=True)
        print(
            f"building a ledger of {args.people * per_person:,} events, {layout} row "
            "group(s) per file",
            flush=True,
        )
        info = build_ledger(
            data,
            people=args.people,
            per_person=per_person,
            public_every=50,
            row_groups_per_segment=layout,
        )
        info_file.write_text(json.dumps(info))
    from openscore.config import Settings
    from openscore.features.expert import expert_scorecard
    from openscore.online import install_model

    install_model(
        expert_scorecard().save(root / "expert.json"), Settings(data_dir=data, secret_key=SECRET)
    )
    return data, info


def fresh_subjects(data: Path, people: int, need: int) -> list[str]:
    """People spread over the ledger whose wallet rows are still there."""
    from openscore.ledger import Ledger

    ledger = Ledger(data / "ledger")
    spread = max(1, people // (4 * need + 1))
    found = []
    for i in range(4 * need):
        pid = person_id(1 + i * spread + spread // 2)
        if "wallet" in ledger.read_person(pid, columns=["source"])["source"].to_pylist():
            found.append(pid)
            if len(found) == need:
                return found
    raise SystemExit(f"{data}: fewer than {need} people with wallet rows left: rebuild")


def wait_for_first_expiry(port: int, timeout: float = 900) -> float:
    """Seconds until the server's housekeeping finished its first expiry pass (it reads
    every segment; a revocation timed meanwhile would measure the two together)."""
    started = time.monotonic()
    url = f"http://127.0.0.1:{port}/metrics"
    while time.monotonic() - started < timeout:
        with urllib.request.urlopen(url, timeout=30) as answer:
            if 'openscore_job_last_ok{job="ledger-expiry"}' in answer.read().decode():
                return time.monotonic() - started
        time.sleep(1)
    raise RuntimeError(f"no expiry pass within {timeout} s")


def revoke_one(code: Code, pid: str, ledger_dir: Path) -> None:
    """``pid`` logs in, then revokes wallet: the call's wall time and the server's CPU time
    for it (the log-in is not counted), and a check that no wallet row is left."""
    import httpx

    from openscore.ledger import Ledger

    assert code.proc is not None
    with httpx.Client(base_url=f"http://127.0.0.1:{code.port}", timeout=120) as client:
        login = client.post("/v1/login", json={"login": pid, "password": PASSWORD})
        login.raise_for_status()
        token = login.json()["csrf_token"]
        cpu = server_cpu_seconds(code.proc)
        started = time.perf_counter()
        answer = client.delete("/v1/me/consents/wallet", headers={"X-CSRF-Token": token})
        code.walls.append(round(time.perf_counter() - started, 3))
        code.cpu.append(round(server_cpu_seconds(code.proc) - cpu, 3))
        answer.raise_for_status()
        code.publish.append(answer.json()["seconds"])
    left = Ledger(ledger_dir).read_person(pid, columns=["source"])["source"].to_pylist()
    assert "wallet" not in left, f"{pid}: wallet rows left after the revocation"


@dataclass
class Code:
    """One server to time: a label, the code it runs, its subjects, and its figures."""

    label: str
    src: Path
    subjects: list[str]
    walls: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    publish: list[float] = field(default_factory=list)
    port: int = 0
    proc: subprocess.Popen | None = None


def run_backend(backend: str, groups: list[tuple[Path, list[Code]]]) -> dict[str, dict]:
    """Every server of every group up at once, then the revocations in rounds, one per
    server in turn: whatever else loads the machine loads them all alike.

    A group is one ledger (its data directory) and one registry shared by its servers, as
    two versions of a service would share them while one replaces the other; each server
    revokes only its own subjects."""
    from openscore.config import Settings

    procs, databases = [], []
    try:
        for data, codes in groups:
            subjects = [pid for c in codes for pid in c.subjects]
            print(f"[{backend}] {data.parent.name}: registry, {len(subjects)} subjects", flush=True)
            url, database = make_registry(backend, data.parent)
            if database:
                databases.append(database)
            settings = Settings(
                data_dir=data,
                registry_url=url,
                secret_key=SECRET,
                environment="production",
                as_of=AS_OF,
            )
            populate(url, settings, population=[], subjects=subjects)
            for code in codes:
                env = server_env(data, url)
                env["PYTHONPATH"] = os.pathsep.join(
                    [str(code.src), str(ROOT / "clients" / "python" / "src")]
                )
                code.port = free_port()
                log = BENCH / f"server-{backend}-{data.parent.name}-{code.src.parent.name}.log"
                proc, startup = start_server(env, code.port, 1, log)
                procs.append(proc)
                code.proc = proc
                settle = wait_for_first_expiry(code.port)
                print(
                    f"[{backend}] {code.label}: server up in {startup:.1f} s, its first "
                    f"expiry pass done {settle:.1f} s later",
                    flush=True,
                )
        load = os.getloadavg()
        everyone = [(data, code) for data, codes in groups for code in codes]
        for i in range(max(len(c.subjects) for _, c in everyone)):
            for data, code in everyone:
                if i < len(code.subjects):
                    revoke_one(code, code.subjects[i], data / "ledger")
        after = os.getloadavg()
    finally:
        for proc in procs:
            stop_server(proc)
        for database in databases:
            drop_database(database)
    out = {}
    for _, code in everyone:
        out[code.label] = {
            "trials": len(code.walls),
            "wall_p50_s": round(percentile(code.walls, 50), 3),
            "wall_max_s": round(max(code.walls), 3),
            "wall_min_s": round(min(code.walls), 3),
            # CPU time the server spent on the call (its background jobs' share too): what
            # the call costs whatever the load, where the wall time also counts the wait
            # for a core on a shared machine
            "server_cpu_p50_s": round(percentile(code.cpu, 50), 3),
            "server_cpu_max_s": round(max(code.cpu), 3),
            "rescore_publish_p50_s": round(percentile(code.publish, 50), 3),
            "all_walls_s": code.walls,
            "all_server_cpu_s": code.cpu,
            "load_average_before": [round(x, 2) for x in load],
            "load_average_after": [round(x, 2) for x in after],
        }
        print(
            f"[{backend}] {code.label}: revocation p50 {out[code.label]['wall_p50_s']} s, "
            f"max {out[code.label]['wall_max_s']} s, server CPU p50 "
            f"{out[code.label]['server_cpu_p50_s']} s",
            flush=True,
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=100_000_000, help="ledger size")
    ap.add_argument("--people", type=int, default=1_000_000, help="people in the ledger")
    ap.add_argument("--revocations", type=int, default=8, help="per backend and code")
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--baseline", default=DEFAULT_BASELINE, help="git commit of the baseline")
    ap.add_argument("--reuse-ledger", action="store_true", help="keep a ledger built before")
    ap.add_argument(
        "--baseline-layout",
        action="store_true",
        help="also run the baseline on a ledger in its own compaction's layout",
    )
    args = ap.parse_args()
    backends = [b for b in args.backends.split(",") if b]

    sha, base_src = baseline_tree(args.baseline)
    here_src = ROOT / "src"
    ours, theirs = layout_of(here_src), layout_of(base_src)
    data, ledger = ledger_for(ours, args)
    print(f"ledger: {ledger}", flush=True)
    n = args.revocations
    base_label = f"baseline {sha[:7]}"
    own_label = f"{base_label} on its layout"
    # per backend: (data directory, codes sharing it); the baseline runs on the same ledger
    plan: list[tuple[Path, list[tuple[str, Path]]]] = [
        (data, [(base_label, base_src), ("this tree", here_src)])
    ]
    ledgers = {f"rg{ours}": ledger}
    if args.baseline_layout and theirs != ours:
        base_data, base_ledger = ledger_for(theirs, args)
        ledgers[f"rg{theirs}"] = base_ledger
        plan.append((base_data, [(own_label, base_src)]))
    pools = {d: fresh_subjects(d, args.people, n * len(c) * len(backends)) for d, c in plan}
    load_before = os.getloadavg()
    results: dict[str, dict] = {}
    for backend in backends:
        groups = []
        for d, codes in plan:
            group = []
            for label, src in codes:
                group.append(Code(label, src, pools[d][:n]))
                pools[d] = pools[d][n:]
            groups.append((d, group))
        results[backend] = run_backend(backend, groups)

    parts = []
    for backend, by_code in results.items():
        base = by_code[base_label]
        here = by_code["this tree"]
        ratio = round(base["wall_p50_s"] / here["wall_p50_s"], 2)
        by_code["p50_speedup"] = ratio
        line = (
            f"{backend}: p50 {here['wall_p50_s']} s, max {here['wall_max_s']} s, server CPU "
            f"p50 {here['server_cpu_p50_s']} s (baseline {base['wall_p50_s']} s, max "
            f"{base['wall_max_s']} s, CPU {base['server_cpu_p50_s']} s; {ratio}x)"
        )
        own = by_code.get(own_label)
        if own:
            line += (
                f"; baseline on its own layout p50 {own['wall_p50_s']} s, max "
                f"{own['wall_max_s']} s, CPU {own['server_cpu_p50_s']} s"
            )
        parts.append(line)
    figures = {
        "ledgers": ledgers,
        "baseline_commit": sha,
        "revocations_per_run": n,
        "as_of": AS_OF.isoformat(),
        "workers": 1,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "backends": results,
    }
    summary = (
        f"revocation to new published score through `openscore serve`, {n} per run, ledger "
        f"{ledger['events']:,} events in {ledger['segments']} files, baseline {sha[:7]} on "
        f"the same ledger, revocations interleaved, load average before "
        f"{load_before[0]:.1f}, after {figures['load_average_after'][0]:.1f} "
        "(other work shares the 2 cores): " + " | ".join(parts) + " (aim: < 1 s)"
    )
    save(
        "revocation", figures, summary, "python benchmarks/revocation.py " + " ".join(sys.argv[1:])
    )


if __name__ == "__main__":
    main()
