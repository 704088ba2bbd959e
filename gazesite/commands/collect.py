"""``gazesite collect`` (the receiving server), ``collect export`` and ``collect loadtest``."""

from __future__ import annotations

from pathlib import Path

import click

from gazesite.collect.protocol import DEFAULT_BURST, DEFAULT_MAX_DB_BYTES, DEFAULT_RATE, QUOTA_OVERDRAFT
from gazesite.commands.options import PATH

#: When --kill-at is not given, the server is killed once, half way through the default 60 s run.
DEFAULT_KILL_AT = (30.0,)


@click.group(invoke_without_command=True)
@click.option("--db", type=PATH, default=None, help="SQLite database to store into (created if missing).")
@click.option("--origin", default=None, help="The built site's origin, scheme://host[:port]: the only one allowed to send.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True, help="Port (0 picks a free one).")
@click.option(
    "--rate",
    type=float,
    default=DEFAULT_RATE,
    show_default=True,
    help="Requests per second one client address may make.",
)
@click.option("--burst", type=int, default=DEFAULT_BURST, show_default=True, help="Requests one client address may make at once.")
@click.option(
    "--trust-proxy",
    type=int,
    default=0,
    show_default=True,
    metavar="N",
    help="Reverse proxies in front of the server: the client is the N-th X-Forwarded-For entry from the right (0: the TCP peer).",
)
@click.option(
    "--max-db-bytes",
    type=int,
    default=DEFAULT_MAX_DB_BYTES,
    show_default=True,
    help=f"Storage quota: the database and its WAL; at it new sessions get 507 (started ones may go {QUOTA_OVERDRAFT:.0%} past).",
)
@click.pass_context
def collect(
    ctx: click.Context,
    db: Path | None,
    origin: str | None,
    host: str,
    port: int,
    rate: float,
    burst: int,
    trust_proxy: int,
    max_db_bytes: int,
) -> None:
    """Receive samples from consenting pages of a 'gazesite build --collect URL' site and store them in --db."""
    if ctx.invoked_subcommand is not None:
        if db is not None or origin is not None:
            raise click.UsageError(f"give --db and the other options after '{ctx.invoked_subcommand}'")
        return
    if db is None or origin is None:
        missing = [name for name, value in (("--db FILE", db), ("--origin SITE_ORIGIN", origin)) if value is None]
        raise click.UsageError(f"missing {' and '.join(missing)} (the database to store into and the built site's origin)")
    from gazesite.collect.settings import CollectConfig

    config = CollectConfig(
        db=db,
        origin=origin,
        host=host,
        port=port,
        rate=rate,
        burst=burst,
        trust_proxy=trust_proxy,
        max_db_bytes=max_db_bytes,
    ).validate()
    from gazesite.collect.server import serve  # aiohttp: only once the settings are good

    serve(config, announce=lambda line: click.echo(line))


@collect.command("export")
@click.option("--db", type=PATH, required=True, help="A database written by 'gazesite collect'.")
@click.option("--out", type=PATH, required=True, help="Folder to write: one samples file per session.")
def export(db: Path, out: Path) -> None:
    """Write one samples v2 JSON file per stored session (the page's "Samples (JSON)" shape)."""
    from gazesite.collect.storage import export_sessions

    summary = export_sessions(db, out)
    samples = sum(session["samples"] for session in summary["sessions"].values())
    click.echo(f"wrote {out}: {len(summary['sessions'])} sessions, {samples} samples")


@collect.command("loadtest")
@click.option("--participants", type=int, default=200, show_default=True, help="Simulated pages, each from its own loopback address.")
@click.option("--seconds", type=float, default=60.0, show_default=True, help="Seconds during which the pages cut new batches.")
@click.option(
    "--kill-at",
    "kill_at",
    type=float,
    multiple=True,
    help="Seconds into the run to SIGKILL the server (repeatable)  [default: 30]",
)
@click.option("--no-kill", is_flag=True, help="Never kill the server.")
@click.option("--down", type=float, default=2.0, show_default=True, help="Seconds the server stays down after each kill.")
@click.option("--interval", type=float, default=0.5, show_default=True, help="Seconds between one participant's batches.")
@click.option("--samples-per-batch", type=int, default=15, show_default=True, help="Samples in each batch.")
@click.option("--drain", type=float, default=60.0, show_default=True, help="Most seconds to finish sending after the run.")
@click.option("--json", "json_out", type=PATH, default=None, help="Also write the figures here.")
def loadtest(
    participants: int,
    seconds: float,
    kill_at: tuple[float, ...],
    no_kill: bool,
    down: float,
    interval: float,
    samples_per_batch: int,
    drain: float,
    json_out: Path | None,
) -> None:
    """Load-test a local server (killed and restarted under load): every sample must be stored exactly once; exit 1 if not."""
    import json
    import tempfile

    from gazesite.collect.loadtest import LoadConfig, format_report, passed, run_loadtest

    if no_kill and kill_at:
        raise click.UsageError("--no-kill and --kill-at contradict each other: give one")
    config = LoadConfig(
        participants=participants,
        seconds=seconds,
        kill_at=() if no_kill else kill_at or DEFAULT_KILL_AT,
        down_seconds=down,
        interval=interval,
        samples_per_batch=samples_per_batch,
        drain_seconds=drain,
    )
    try:
        config.validate()
    except ValueError as exc:  # a bad setting would make the run unbounded: a usage error, as for any bad option
        raise click.UsageError(str(exc)) from None
    with tempfile.TemporaryDirectory(prefix="gazesite-load-") as workdir:
        figures = run_loadtest(config, Path(workdir))
    click.echo(format_report(figures))
    if json_out:
        json_out.write_text(json.dumps(figures, indent=2) + "\n")
    if not passed(figures):
        raise SystemExit(1)
