"""`indexer node ...`: the local Elasticsearch."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from indexer.cli.app import console, err_console, node_app, state
from indexer.errors import IndexerError

if TYPE_CHECKING:
    from indexer import node


def _node_spec(
    port: int | None, heap: str | None, nodes: int | None, cache_dir: Path | None, secure: bool | None = None
) -> node.NodeSpec:
    from indexer import node

    settings = state.settings.with_overrides(node_port=port, node_heap=heap, cache_dir=cache_dir)
    return node.NodeSpec.saved(
        settings.cache_dir, settings.node_port, settings.node_heap, settings.node_user, nodes=nodes, secure=secure
    )


PortOpt = Annotated[int | None, typer.Option(help="HTTP port of the first node (env: INDEXER_NODE_PORT; 9200)")]
CacheOpt = Annotated[Path | None, typer.Option(help="download and data dir (env: INDEXER_CACHE_DIR)")]
NodeOpt = Annotated[int | None, typer.Option("--node", help="only this node (0, 1, ...) of a multi-node cluster")]


@node_app.command("start")
def node_start(
    port: PortOpt = None,
    heap: Annotated[str | None, typer.Option(help="JVM heap per node, e.g. 512m (env: INDEXER_NODE_HEAP; 1g)")] = None,
    nodes: Annotated[int | None, typer.Option(min=1, max=9, help="number of nodes in the local cluster")] = None,
    cache_dir: CacheOpt = None,
    only: NodeOpt = None,
    secure: Annotated[
        bool | None,
        typer.Option(
            "--secure/--insecure",
            help="TLS with a generated CA, a user and an API key (saved in a 0600 file) [default: as last started]",
        ),
    ] = None,
) -> None:
    """Download (once), configure and start a local Elasticsearch; waits until it is healthy. Idempotent."""
    from indexer import node

    spec = _node_spec(port, heap, nodes, cache_dir, secure)
    started = time.monotonic()
    status = node.start(spec, log=lambda line: err_console.print(f"[dim]{line}[/]"), only=only)
    console.print(
        f"Elasticsearch {status.version} is running at [bold]{status.url}[/] "
        f"({len([n for n in status.nodes if n.running])} node(s), health {status.health}, "
        f"{time.monotonic() - started:.1f} s)"
    )
    if spec.secure:
        console.print(
            f"TLS CA certificate: {spec.ca_file}\nCA SHA-256 fingerprint: {node.ca_fingerprint(spec.ca_file)}\n"
            f"user {node.SECURE_USER!r}: password and API key are in {spec.credentials_file} (mode 0600); "
            f"connect with: indexer --config {spec.credentials_file} doctor",
            highlight=False,
            soft_wrap=True,
        )


@node_app.command("stop")
def node_stop(port: PortOpt = None, cache_dir: CacheOpt = None, only: NodeOpt = None) -> None:
    """Stop the local node(s) this tool started (only those: found by their pid files)."""
    from indexer import node

    spec = _node_spec(port, None, None, cache_dir)
    stopped = node.stop(spec, only=only)
    console.print(f"stopped {len(stopped)} node(s)" if stopped else "no local node was running")


@node_app.command("status")
def node_status(port: PortOpt = None, cache_dir: CacheOpt = None) -> None:
    """Say whether the local node(s) run, with version and cluster health. Exit status 1 when none runs."""
    from rich.table import Table

    from indexer import node

    spec = _node_spec(port, None, None, cache_dir)
    status = node.status(spec)
    table = Table("node", "port", "pid", "state")
    for item in status.nodes:
        table.add_row(f"node-{item.index}", str(item.http_port), str(item.pid or "-"), _running(item.running))
    console.print(table)
    if status.running:
        console.print(f"{status.url}: Elasticsearch {status.version}, health {status.health}")
    else:
        console.print(f"not running (start it with `indexer node start`); data in {spec.cluster_dir}")
        raise typer.Exit(1)


def _running(running: bool) -> str:
    return "[green]running[/]" if running else "[red]stopped[/]"


@node_app.command("logs")
def node_logs(
    lines: Annotated[int, typer.Option("--lines", "-n", help="how many lines")] = 40,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="keep printing new lines")] = False,
    port: PortOpt = None,
    cache_dir: CacheOpt = None,
    only: NodeOpt = None,
) -> None:
    """Print the end of the server log."""
    from indexer import node

    spec = _node_spec(port, None, None, cache_dir)
    (index,) = spec.indices(only or 0)
    log_file = node.log_file(spec.node_dir(index))
    if not log_file.exists():
        raise IndexerError(f"no log yet at {log_file}", "start the node first: `indexer node start`")
    for line in node.tail(log_file, lines):
        typer.echo(line)
    if follow:
        with log_file.open(errors="replace") as handle:
            handle.seek(0, 2)
            while True:
                line = handle.readline()
                if line:
                    typer.echo(line, nl=False)
                else:
                    time.sleep(0.5)
