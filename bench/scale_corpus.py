"""Make a scaled copy of the corpus for benchmarks: the original files plus N-1 copies with fresh article ids.

A copy's URL gets ``/copy<k>`` appended to its path (and query and fragment), which no outlet's id pattern
matches, so every copy gets a fresh hash id while keeping its outlet, time and text. Files are written outside
the project (default /tmp/news-indexer-bench/scaled); run once, reuse afterwards.

    .venv/bin/python bench/scale_corpus.py --copies 6            # ~97k files from the 16k corpus
"""

from __future__ import annotations

import argparse
import re
import shutil
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent


def _with_copy_marker(url: str, copy: int) -> str:
    """Append the marker to the path, and to the query and fragment where present (DW ids can sit in either)."""
    parts = urlsplit(url)
    marker = f"/copy{copy}"
    return urlunsplit(
        parts._replace(
            path=parts.path.rstrip("/") + marker,
            query=parts.query + marker if parts.query else "",
            fragment=parts.fragment + marker if parts.fragment else "",
        )
    )


def rewrite(data: bytes, copy: int) -> bytes:
    """The article with its URL made unique for `copy` (copy 0 is the original)."""
    if copy == 0:
        return data
    head, _, rest = data.partition(b"\n------")
    match = re.match(rb"^(.*\]\()(.*)(\)\s*)$", head, re.DOTALL)
    if not match:
        return data
    url = match.group(2).decode("utf-8", "surrogateescape")
    new = _with_copy_marker(url, copy).encode("utf-8", "surrogateescape")
    return match.group(1) + new + match.group(3) + b"\n------" + rest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--out", type=Path, default=Path("/tmp/news-indexer-bench/scaled"))
    parser.add_argument("--copies", type=int, default=6, help="total copies including the original")
    args = parser.parse_args()
    if args.out.exists():
        shutil.rmtree(args.out)
    files = sorted(args.corpus.glob("*/*/*.md"))
    written = 0
    for copy in range(args.copies):
        for path in files:
            target = args.out / f"copy{copy}" / path.relative_to(args.corpus)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(rewrite(path.read_bytes(), copy))
            written += 1
    print(f"wrote {written:,} files to {args.out}")


if __name__ == "__main__":
    main()
