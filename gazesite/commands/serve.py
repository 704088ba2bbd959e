"""``gazesite serve``: a built site on localhost."""

from __future__ import annotations

from pathlib import Path

import click

from gazesite.commands.options import PATH


@click.command()
@click.argument("directory", type=PATH, default=Path("dist"))
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Port (0 picks a free one).")
@click.option("--host", default="localhost", show_default=True, help="Interface to listen on.")
def serve(directory: Path, port: int, host: str) -> None:
    """Serve a built site on http://localhost (a secure context: the camera works)."""
    from gazesite.site.serve import make_server

    server = make_server(directory, port, host)
    click.echo(f"serving {directory} at http://{host}:{server.server_address[1]}/ (Ctrl+C stops)", err=False)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
