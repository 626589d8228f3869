"""Schemathesis against ``/openapi.json`` over real HTTP, on SQLite and on PostgreSQL.

Its every check runs (``--checks all``: no 5xx, status codes, content types, headers and
bodies as documented, schema-invalid input refused, schema-valid input accepted, auth
enforced, 405 with a complete ``Allow`` for undeclared methods) over its coverage,
fuzzing and stateful phases, with a bounded number of examples so that CI stays quick.
Each request carries the credentials of its route's audience (``schemathesis_hooks``).

On PostgreSQL only the fuzzing phase runs (its data is what could reach a backend
difference, such as text PostgreSQL refuses); the coverage and stateful phases, which
exercise the HTTP surface, run on SQLite.

Left out: ``POST /v1/operator/partners/{id}/deactivate`` — a generated call can switch
off the very partner whose key the run uses, starving every partner route after it;
``test_auth.py`` covers it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from fixtures.api import ApiWorld
from fixtures.postgres import TEST_SECRET_KEY

EXAMPLES = 4
#: per-operation settings: a webhook URL that is well-formed but private is refused (422)
CONFIG = Path(__file__).with_name("schemathesis.toml")
ROOT = Path(__file__).resolve().parents[2]


def test_openapi_conformance(
    api_world: ApiWorld, live_server: str, tmp_path: Path, registry_backend: str
) -> None:
    operator = api_world.operator()
    partner = api_world.partner("bikes")
    subject = api_world.subject(events=60)
    api_world.grant(subject, "bikes")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "src")]),
        "SCHEMATHESIS_HOOKS": "tests.api.schemathesis_hooks",
        "OPENSCORE_ST_SECRET": TEST_SECRET_KEY,
        "OPENSCORE_ST_OPERATOR_KEY": operator.secret or "",
        "OPENSCORE_ST_PARTNER_KEY": partner.secret or "",
        "OPENSCORE_ST_PERSON": subject.id,
        "OPENSCORE_ST_REGISTRY_URL": api_world.engine.url.render_as_string(hide_password=False),
    }
    run = subprocess.run(
        [
            str(Path(sys.executable).with_name("schemathesis")),
            "--config-file",
            str(CONFIG),
            "run",
            f"{live_server}/openapi.json",
            "--checks",
            "all",
            "--max-examples",
            str(EXAMPLES),
            # the HTTP surface is the same on both backends: PostgreSQL (which refuses
            # more strings than SQLite) gets the generated data, not the boundary cases
            "--phases",
            "coverage,fuzzing,stateful" if registry_backend == "sqlite" else "fuzzing",
            "--generation-deterministic",
            "--workers",
            "1",
            "--no-color",
            "--exclude-path-regex",
            "/deactivate$",
            "--report-dir",
            str(tmp_path / "report"),
        ],
        env=env,
        cwd=tmp_path,  # schemathesis keeps a cache directory in its working directory
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    selected = re.search(r"Selected: (\d+)/(\d+)", run.stdout)
    tested = re.search(r"Tested: (\d+)", run.stdout)
    assert selected and tested, run.stdout[-3000:]
    # every operation but the one left out was exercised
    assert int(tested.group(1)) == int(selected.group(1)) == int(selected.group(2)) - 1
