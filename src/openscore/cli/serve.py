"""``openscore serve``: the API (and, once it exists, the portal) under uvicorn.

Runs the registry migrations first, then uvicorn with production-like settings: no
auto-reload, no ``Server`` header, uvicorn's own access log off (the app logs one line
per request without query strings or headers), every log record scrubbed of secrets,
forwarded headers trusted only from the addresses named, bounded keep-alive.
"""

from __future__ import annotations

import os
import socket
import tempfile
from typing import Annotated

import typer

from openscore.cli.app import app, err_console


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            help="Worker processes. Log-in limits and log-outs are per process, and SQLite "
            "has one writer: keep 1 on SQLite.",
            min=1,
        ),
    ] = 1,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
    log_format: Annotated[
        str,
        typer.Option(
            help="plain, or json: one JSON object per line with the request id (for log shippers)."
        ),
    ] = "plain",
    forwarded_allow_ips: Annotated[
        str | None,
        typer.Option(
            help="Proxies whose X-Forwarded-For/-Proto to trust (comma-separated); "
            "none by default, so a client cannot forge its address."
        ),
    ] = None,
    limit_concurrency: Annotated[
        int | None,
        typer.Option(help="Connections and tasks at most before answering 503.", min=1),
    ] = None,
) -> None:
    """Serve the API on HOST:PORT (OpenAPI at /openapi.json, everything under /v1)."""
    import uvicorn

    from openscore.api.logs import configure_logging
    from openscore.config import get_settings
    from openscore.registry import engine_from_settings, upgrade

    if log_format not in ("plain", "json"):
        raise typer.BadParameter("plain or json", param_hint="--log-format")
    settings = get_settings()
    engine = engine_from_settings(settings)
    try:
        upgrade(engine)
        backend = engine.dialect.name
    finally:
        engine.dispose()
    if backend == "sqlite" and workers > 1:
        err_console.print(
            "[yellow]warning:[/] several workers on SQLite queue for its one writer; "
            "log-outs are per worker, and so are log-in limits unless "
            "OPENSCORE_API_REDIS_URL is set"
        )
    err_console.print(
        f"openscore API on http://{host}:{port}/v1 (registry: {backend}, "
        f"data: {settings.data_dir})",
        highlight=False,
    )
    config = uvicorn.Config(
        "openscore.server:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=configure_logging(log_level, json_lines=log_format == "json"),
        log_level=log_level,
        access_log=False,
        server_header=False,
        proxy_headers=forwarded_allow_ips is not None,
        forwarded_allow_ips=forwarded_allow_ips or "",
        limit_concurrency=limit_concurrency,
        timeout_keep_alive=5,
        timeout_graceful_shutdown=10,
        # a worker warming its public-record index over a large ledger is busy, not dead:
        # the default 5 s had the supervisor kill and restart workers in a loop
        timeout_worker_healthcheck=120,
        backlog=2048,
    )
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # /metrics adds up every worker's counts from files here (prometheus-client's
        # multiprocess mode); set before the workers start and import the client
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="openscore-metrics-")
    if workers == 1:
        server = uvicorn.Server(config)
        server.run()
        if not server.started:
            raise typer.Exit(3)  # uvicorn's "startup failed" (the log says why)
        return
    from uvicorn.supervisors import Multiprocess

    # The workers share this listening socket. uvicorn hands it to each process in a form
    # asyncio does not recognise as TCP, so the accepted connections never get
    # TCP_NODELAY and every answer waits ~40 ms for a delayed ACK (Nagle). Set it on the
    # listener: Linux copies it to every connection accepted from it.
    sock = config.bind_socket()
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    Multiprocess(config, sockets=[sock]).run()
