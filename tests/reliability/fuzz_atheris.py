"""Coverage-guided fuzzing of ingestion with atheris (libFuzzer for Python).

    python tests/reliability/fuzz_atheris.py -max_total_time=60 CORPUS_DIR

The first byte of each input picks the format (``c`` CSV, ``j`` JSONL, ``p`` Parquet,
any other by its value modulo 3; from 128 up, gzipped), the rest is the file. Ingesting it
may refuse the whole file with an
``InputError`` or reject rows; any other exception is a crash, which libFuzzer reports
with the input that caused it (saved as ``crash-*`` in the working directory).
"""

from __future__ import annotations

import gzip
import os
import shutil
import sys
import tempfile
from pathlib import Path

import atheris

# only openscore is instrumented: instrumenting numpy, pandas, duckdb ... takes minutes
with atheris.instrument_imports(include=["openscore"]):
    from openscore.config import Settings
    from openscore.errors import InputError
    from openscore.ingest import Ingester, no_consent_check
    from openscore.ledger import Ledger

WORK = Path(os.environ.get("OPENSCORE_FUZZ_DIR") or tempfile.mkdtemp(prefix="openscore-fuzz-"))
FORMATS = {ord("c"): "csv", ord("j"): "jsonl", ord("p"): "parquet"}


def one_input(data: bytes) -> None:
    if not data:
        return
    tag, body = data[0], data[1:]
    fmt = FORMATS.get(tag) or ("csv", "jsonl", "parquet")[tag % 3]
    gz = tag >= 128
    root = WORK / "case"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    path = root / (f"in.{fmt}.gz" if gz else f"in.{fmt}")
    path.write_bytes(gzip.compress(body) if gz else body)
    ledger = Ledger(root / "data" / "ledger")
    try:
        Ingester(
            ledger, settings=Settings(data_dir=root / "data"), consent_gate=no_consent_check
        ).run([path], "fx")
    except InputError:
        pass


def main() -> None:
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
