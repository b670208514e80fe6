"""`indexer kibana ...`: the saved objects in Kibana."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from indexer.cli.app import console, kibana_app, state

if TYPE_CHECKING:
    from indexer.config import Settings

KibanaUrlOpt = Annotated[str | None, typer.Option(help="Kibana URL (env: KIBANA_URL; default http://127.0.0.1:5601)")]
KibanaUserOpt = Annotated[
    str | None, typer.Option(help="Kibana user (env: KIBANA_USERNAME; default: the Elasticsearch credentials)")
]
KibanaPasswordOpt = Annotated[str | None, typer.Option(help="Kibana password (prefer the env var KIBANA_PASSWORD)")]
KibanaVerifyOpt = Annotated[
    bool | None, typer.Option("--kibana-verify/--no-kibana-verify", help="check Kibana's TLS certificate [default: on]")
]
KibanaSpaceOpt = Annotated[
    str | None, typer.Option("--space", help="Kibana space id (env: KIBANA_SPACE; default: the default space)")
]
ObjectsFileOpt = Annotated[
    Path | None, typer.Option("--file", help="saved objects file (NDJSON) [default: the objects shipped with indexer]")
]
ExportFileOpt = Annotated[
    Path,
    typer.Option(
        "--file",
        help="file to write (NDJSON); if it exists, the objects it holds are exported, else the shipped ones",
    ),
]


def _kibana_settings(
    url: str | None, username: str | None, password: str | None, verify: bool | None, space: str | None
) -> Settings:
    """The top-level settings with the Kibana options given to a `kibana` command."""
    return state.settings.with_overrides(
        kibana_url=url, kibana_username=username, kibana_password=password, kibana_verify=verify, kibana_space=space
    )


@kibana_app.command("setup")
def kibana_setup(
    kibana_url: KibanaUrlOpt = None,
    kibana_username: KibanaUserOpt = None,
    kibana_password: KibanaPasswordOpt = None,
    kibana_verify: KibanaVerifyOpt = None,
    space: KibanaSpaceOpt = None,
    index: Annotated[str | None, typer.Option(help="alias the data view points at (env: INDEXER_INDEX; news)")] = None,
    file: ObjectsFileOpt = None,
) -> None:
    """Import the data view (on the index alias), saved search and "News archive" dashboard, overwriting them."""
    from indexer import kibana

    settings = _kibana_settings(kibana_url, kibana_username, kibana_password, kibana_verify, space)
    settings = settings.with_overrides(index=index)
    report = kibana.setup(settings, file)
    console.print(
        f"Kibana {report.version}: imported {report.imported} saved objects into space {report.space!r}, "
        f"data view on {settings.index!r}",
        highlight=False,
        soft_wrap=True,
    )
    for title, url in report.dashboards:
        console.print(f"{title}: {url}", soft_wrap=True, highlight=False)


@kibana_app.command("export")
def kibana_export(
    file: ExportFileOpt,
    kibana_url: KibanaUrlOpt = None,
    kibana_username: KibanaUserOpt = None,
    kibana_password: KibanaPasswordOpt = None,
    kibana_verify: KibanaVerifyOpt = None,
    space: KibanaSpaceOpt = None,
) -> None:
    """Write Kibana's current version of the objects to a file (normalized), e.g. after editing them in Kibana."""
    from indexer import kibana

    settings = _kibana_settings(kibana_url, kibana_username, kibana_password, kibana_verify, space)
    report = kibana.export(settings, file)
    console.print(f"Kibana {report.version}: wrote {len(report.objects)} objects to {report.path}", highlight=False)
