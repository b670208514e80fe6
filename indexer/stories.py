"""Stories: near-duplicate articles (wire copies, reposts, reprints in the other script) share one story id.

What is compared. The body paragraphs, joined and folded like the chars view (:func:`indexer.normalize.fold`
then :func:`~indexer.normalize.compact`), so width, case and script don't matter. Titles are left out (copies
retitle), and so are the copyright lines and feed footers the parser keeps apart from the paragraphs. Datelines
and credit lines inside the paragraphs (``（中央社記者…電）``, ``路透北京7月23日 -``) stay: containment hardly
notices them. A text with fewer than :data:`MIN_SHINGLES` distinct shingles has no signature and is a story of
its own.

Signature. The set of character :data:`SHINGLE_SIZE`-grams of that text, summarised by R-MinHash (rensa,
:data:`NUM_PERM` permutations), the set's size and the text's distinct numbers. The MinHash is cut into
:data:`BANDS` bands of :data:`ROWS` values; each band gives a keyword (:meth:`Signature.band_keys`), and two
articles are candidates when they share one. Two rows per band make pairs with a Jaccard similarity of 0.2
candidates 93 % of the time, which containment needs: an excerpt of a long article has a small Jaccard
similarity.

Copies. Two candidates are copies (:func:`is_copy`) when the estimated containment of the smaller shingle set
in the larger is at least :data:`THRESHOLD`, their publish times lie at most :data:`WINDOW` apart, and, when
both texts carry numbers, at least :data:`NUMBERS_THRESHOLD` of the smaller set of numbers is in the other.
Daily template reports (exchange rates, case counts) share most of their wording with the day before; the
window and the numbers keep them apart, and stop them from chaining into one story.

Story ids. A story id is the document id of one of its articles. The rules:

- *Stable across re-runs.* A signature depends only on the text and :data:`STORY_VERSION`; an unchanged
  article keeps its stored story.
- *Independent of file order.* Among the articles of one run, copies form connected components; a component
  that matches no stored article takes the id of its earliest member by (publish time, document id), an
  undated article sorting last.
- *Incremental.* A component that matches stored articles joins the story of the earliest of the stored
  articles it matches. Stored stories are never renamed or merged, so a new article that bridges two stored
  stories joins one of them, and a new copy published before a story's first article joins that story.
  Loading everything at once can therefore name a story differently than loading the same articles in
  several runs; each way is reproducible.
- *A reindex keeps the ids* by copying the stored ``story`` with the rest of the document.
"""

from __future__ import annotations

import base64
import re
import struct
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import combinations

from rensa import RMinHash

from indexer.article import Article
from indexer.normalize import NORMALIZATION_VERSION, compact, fold

SHINGLE_SIZE = 5
"""Characters per shingle, measured on the labelled pairs against 3, 4 and 6 (docs/stories.md)."""
NUM_PERM = 128
BANDS = 64
ROWS = 2
SEED = 20201022
MIN_SHINGLES = 50
THRESHOLD = 0.6
"""Least estimated containment of two copies (docs/stories.md has precision and recall at 0.5, 0.6, 0.7)."""
WINDOW = timedelta(days=4)
"""Largest gap between the publish times of two copies; reposts among the labelled pairs come up to 3.1 days late."""
NUMBERS_THRESHOLD = 0.7
"""Least share of the numbers of one copy found in the other (when both have two or more)."""
STORY_VERSION = f"1.rensa{RMinHash.ALGORITHM_VERSION}.{NORMALIZATION_VERSION}"
"""Changes whenever a signature or the copy rule can change: rebuild the stories when it does."""

_DIGEST = struct.Struct(f"<{NUM_PERM}I")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_BAND_BYTES = ROWS * 4


@dataclass(frozen=True, slots=True)
class Signature:
    """What two articles are compared on: the MinHash of the shingle set (``NUM_PERM`` little-endian uint32
    values), the set's size, and the distinct numbers of the text (digit grouping commas removed)."""

    digest: bytes
    size: int
    numbers: frozenset[str] = frozenset()

    def band_keys(self) -> tuple[str, ...]:
        """One keyword per LSH band (band number, then its values in hex): candidates share at least one."""
        step = _BAND_BYTES
        return tuple(f"{band:02d}{self.digest[band * step : (band + 1) * step].hex()}" for band in range(BANDS))

    def encode(self) -> str:
        """The digest as base64, for a ``binary`` field."""
        return base64.b64encode(self.digest).decode("ascii")

    @classmethod
    def decode(cls, digest: str, size: int, numbers: Iterable[str] = ()) -> Signature:
        """The inverse of :meth:`encode`."""
        return cls(base64.b64decode(digest), size, frozenset(numbers))


@dataclass(frozen=True, slots=True)
class Entry:
    """What the story rules need of one article. ``story`` is set for articles already stored."""

    doc_id: str
    published_at: datetime | None
    signature: Signature | None
    story: str | None = None


Measure = Callable[[Signature, Signature], float]


def story_text(article: Article) -> str:
    """The text an article is compared on: its body paragraphs, folded and compacted."""
    return compact(fold("\n".join(article.paragraphs)))


def shingles(text: str) -> set[str]:
    """The distinct character shingles of a text."""
    return {text[start : start + SHINGLE_SIZE] for start in range(len(text) - SHINGLE_SIZE + 1)}


def signature(article: Article) -> Signature | None:
    """The signature of an article; None when its text is too short to compare."""
    text = story_text(article)
    grams = shingles(text)
    if len(grams) < MIN_SHINGLES:
        return None
    minhash = RMinHash(num_perm=NUM_PERM, seed=SEED)
    minhash.update(sorted(grams))
    numbers = frozenset(match.group().replace(",", "") for match in _NUMBER.finditer(text))
    return Signature(_DIGEST.pack(*minhash.digest()), len(grams), numbers)


def jaccard(a: Signature, b: Signature) -> float:
    """Estimated Jaccard similarity of the two shingle sets: the share of equal MinHash values."""
    return sum(x == y for x, y in zip(_DIGEST.unpack(a.digest), _DIGEST.unpack(b.digest), strict=True)) / NUM_PERM


def containment(a: Signature, b: Signature) -> float:
    """Estimated share of the smaller shingle set found in the larger, from the Jaccard estimate and sizes."""
    similarity = jaccard(a, b)
    shared = similarity * (a.size + b.size) / (1 + similarity)
    return min(1.0, shared / min(a.size, b.size))


def is_copy(
    a: Entry, b: Entry, *, threshold: float = THRESHOLD, window: timedelta = WINDOW, measure: Measure = containment
) -> bool:
    """Whether two articles are copies of one story: similar text and numbers, published close enough in time.

    An undated article is compared on its text alone.
    """
    if a.signature is None or b.signature is None:
        return False
    if a.published_at and b.published_at and abs(a.published_at - b.published_at) > window:
        return False
    return _numbers_agree(a.signature.numbers, b.signature.numbers) and measure(a.signature, b.signature) >= threshold


def _numbers_agree(a: frozenset[str], b: frozenset[str]) -> bool:
    smaller = min(len(a), len(b))
    return smaller < 2 or len(a & b) >= NUMBERS_THRESHOLD * smaller


_UNDATED = datetime.max.replace(tzinfo=UTC)


def _order(entry: Entry) -> tuple[datetime, str]:
    return entry.published_at or _UNDATED, entry.doc_id


class StoryGraph:
    """The articles of one run, the copy links found for them, and the story id rule applied to the result.

    Holds ids and times only, so a caller that finds the links elsewhere (in the index) can feed it directly.
    """

    def __init__(self) -> None:
        self._entries: dict[str, Entry] = {}
        self._parent: dict[str, str] = {}
        self._stored: dict[str, tuple[tuple[datetime, str], str]] = {}

    def add(self, entry: Entry) -> None:
        """An article of this run (its own component until linked)."""
        self._entries[entry.doc_id] = entry
        self._parent.setdefault(entry.doc_id, entry.doc_id)

    def _root(self, doc_id: str) -> str:
        parent = self._parent
        while parent[doc_id] != doc_id:
            parent[doc_id] = parent[parent[doc_id]]
            doc_id = parent[doc_id]
        return doc_id

    def link(self, a: str, b: str) -> None:
        """Two articles of this run are copies."""
        root_a, root_b = self._root(a), self._root(b)
        if root_a != root_b:
            self._parent[max(root_a, root_b)] = min(root_a, root_b)

    def join(self, doc_id: str, stored: Entry) -> None:
        """An article of this run is a copy of a stored article, whose ``story`` is set."""
        if stored.story is None:
            raise ValueError(f"stored article {stored.doc_id} has no story")
        match = (_order(stored), stored.story)
        self._stored[doc_id] = min(self._stored.get(doc_id, match), match)

    def stories(self) -> dict[str, str]:
        """The story id of every article added."""
        earliest: dict[str, tuple[tuple[datetime, str], str]] = {}
        for doc_id, match in self._stored.items():
            root = self._root(doc_id)
            earliest[root] = min(earliest.get(root, match), match)
        first: dict[str, Entry] = {}
        for doc_id, entry in self._entries.items():
            root = self._root(doc_id)
            if root not in first or _order(entry) < _order(first[root]):
                first[root] = entry
        result: dict[str, str] = {}
        for doc_id in self._entries:
            root = self._root(doc_id)
            result[doc_id] = earliest[root][1] if root in earliest else first[root].doc_id
        return result


def candidates(entries: Sequence[Entry]) -> set[tuple[int, int]]:
    """Index pairs ``(i, j)``, ``i < j``, of entries that share an LSH band key."""
    buckets: dict[str, list[int]] = defaultdict(list)
    for index, entry in enumerate(entries):
        if entry.signature is not None:
            for key in entry.signature.band_keys():
                buckets[key].append(index)
    return {pair for members in buckets.values() if len(members) > 1 for pair in combinations(members, 2)}


def assign(
    new: Iterable[Entry],
    stored: Iterable[Entry] = (),
    *,
    threshold: float = THRESHOLD,
    window: timedelta = WINDOW,
    measure: Measure = containment,
) -> dict[str, str]:
    """The story id of every new article, given the stored articles that may be its copies.

    ``stored`` entries carry their ``story``; one whose id is among the new articles is being replaced and
    is ignored.
    """
    fresh = list(new)
    ids = {entry.doc_id for entry in fresh}
    kept = [entry for entry in stored if entry.doc_id not in ids]
    graph = StoryGraph()
    for entry in fresh:
        graph.add(entry)
    entries = fresh + kept
    count = len(fresh)
    for i, j in candidates(entries):
        if i >= count or not is_copy(entries[i], entries[j], threshold=threshold, window=window, measure=measure):
            continue
        if j < count:
            graph.link(entries[i].doc_id, entries[j].doc_id)
        else:
            graph.join(entries[i].doc_id, entries[j])
    return graph.stories()
