"""``gazesite collect`` (the receiving server) and ``gazesite collect export``: thin shells over the library."""

from __future__ import annotations

from pathlib import Path

import click

from gazesite.collect.protocol import DEFAULT_BURST, DEFAULT_MAX_DB_BYTES, DEFAULT_RATE, QUOTA_OVERDRAFT

_PATH = click.Path(path_type=Path)


@click.group(invoke_without_command=True)
@click.option("--db", type=_PATH, default=None, help="SQLite database to store into (created if missing).")
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
    from gazesite.collect.server import CollectConfig, serve

    serve(
        CollectConfig(
            db=db,
            origin=origin,
            host=host,
            port=port,
            rate=rate,
            burst=burst,
            trust_proxy=trust_proxy,
            max_db_bytes=max_db_bytes,
        ),
        announce=lambda line: click.echo(line),
    )


@collect.command("export")
@click.option("--db", type=_PATH, required=True, help="A database written by 'gazesite collect'.")
@click.option("--out", type=_PATH, required=True, help="Folder to write: one samples file per session.")
def export(db: Path, out: Path) -> None:
    """Write one samples v2 JSON file per stored session (the page's "Samples (JSON)" shape)."""
    from gazesite.collect.storage import export_sessions

    summary = export_sessions(db, out)
    samples = sum(session["samples"] for session in summary["sessions"].values())
    click.echo(f"wrote {out}: {len(summary['sessions'])} sessions, {samples} samples")
