"""A wheel installed outside the checkout, as `pip install .`, `pipx install` or `pip install git+…` install the tool:
every file the code reads must be inside the package, and the console script must index and search on its own.

The wheel is built from a copy of the working tree (the files git tracks or would track), so nothing of the
checkout's own build/ or .venv reaches it, and installed with its dependencies (resolved and fetched by pip, from its
cache after the first run) into a fresh venv in a temporary directory. About 40 s: slow.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from indexer.node.security_index_analysis import sources_digest
from indexer.outlet_meta import load_outlets
from indexer.saved_objects import shipped_objects_text

from .conftest import EXAMPLES, ROOT
from .nodes import cli_env

pytestmark = [pytest.mark.slow, pytest.mark.es]


def _working_tree_copy(target: Path) -> Path:
    """The files git tracks or would track (not ignored), as they are now, copied to `target`."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def _run(*command: str | Path, env: dict[str, str] | None = None, cwd: Path | None = None) -> str:
    result = subprocess.run(
        [str(part) for part in command], env=env, cwd=cwd, capture_output=True, text=True, timeout=900, check=False
    )
    assert result.returncode == 0, f"{command[:3]}: {result.stderr[-3000:]}"
    return result.stdout


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv, outside the checkout, with the wheel built from the working tree installed in it."""
    work = tmp_path_factory.mktemp("wheel-install")
    source = _working_tree_copy(work / "source")
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", work / "dist", source)
    (wheel,) = (work / "dist").glob("news_indexer-*.whl")
    # This interpreter's pip installs into the new venv (pip --python): no second pip to bootstrap, which would take
    # longer than the install itself; --no-compile skips writing bytecode for the dependencies.
    _run(sys.executable, "-m", "venv", "--without-pip", work / "venv")
    python = work / "venv" / "bin" / "python"
    _run(sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-compile", wheel)
    shutil.rmtree(source)
    return work / "venv"


def test_the_wheel_ships_every_data_file_the_code_reads(venv: Path) -> None:
    script = (
        "import json, indexer\n"
        "from indexer.mapping import load_template\n"
        "from indexer.saved_objects import shipped_objects_text\n"
        "from indexer.node.security_index_analysis import sources_digest\n"
        "from indexer.outlet_meta import load_outlets\n"
        "print(json.dumps({'package': indexer.__file__, 'mapping': load_template().version,\n"
        "    'objects': shipped_objects_text(), 'plugin': sources_digest(), 'outlets': sorted(load_outlets())}))\n"
    )
    found = json.loads(_run(venv / "bin" / "python", "-c", script, cwd=venv.parent))
    assert Path(found["package"]).is_relative_to(venv)
    assert found["objects"] == shipped_objects_text()
    assert found["plugin"] == sources_digest()
    assert found["outlets"] == sorted(load_outlets())


def test_without_the_plot_extra_a_chart_is_refused_with_the_install_command(venv: Path, tmp_path: Path) -> None:
    result = subprocess.run(
        [
            venv / "bin" / "indexer",
            "compare",
            "川普",
            "--plot",
            tmp_path / "chart.png",
            "--es-url",
            "http://127.0.0.1:1",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1 and "pip install 'news-indexer[plot]'" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "chart.png").exists()


def test_the_installed_script_indexes_and_searches_the_examples(venv: Path, alias: str, tmp_path: Path) -> None:
    env = cli_env(
        **{name: value for name, value in os.environ.items() if name.startswith("ES_")},
        INDEXER_CACHE_DIR=str(tmp_path / "cache"),
    )
    indexer = venv / "bin" / "indexer"
    summary = json.loads(_run(indexer, "index", EXAMPLES, "--index", alias, "--json", env=env, cwd=tmp_path))
    files = sorted(EXAMPLES.glob("*.md"))
    assert summary["indexed"] == len(files) and summary["rejected"] == 0
    found = json.loads(_run(indexer, "search", "拉夫罗夫", "--index", alias, "--json", env=env, cwd=tmp_path))
    assert found["total"] >= 1
    assert {hit["outlet"] for hit in found["hits"]} == {"dw"}
