"""Outlets: short names from URL hosts, article ids from URLs, and which URLs are article pages.

An article id is the outlet's own id taken from the URL where it has one (DW ``a-54724384``, CNA
``202008030316``, Solidot ``sid-65559`` ...), otherwise ``h`` followed by the first 16 hex digits of the
SHA-1 of the URL without its scheme. These are the corpus file names, so the rules below reproduce the
corpus builder's choices exactly, including where an outlet's page has an id the builder did not use
(bare-number BBC URLs, 2014 BBC slugs with a hyphen). An article whose file names no URL is identified by its
text (:func:`content_id`) under the outlet :data:`UNKNOWN_OUTLET`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit


@dataclass(frozen=True, slots=True)
class Outlet:
    """One news outlet: its short name, its domains and how its article URLs look.

    ``ids`` are tried in order against ``path`` or ``path?query``; the first match gives the id: the
    ``id`` group, or the ``a`` and ``b`` groups joined by ``-``. ``pages`` match article pages whose
    URL carries no id (their id is the hash).
    """

    name: str
    domains: tuple[str, ...]
    ids: tuple[re.Pattern[str], ...] = ()
    pages: tuple[re.Pattern[str], ...] = ()
    time_zone: str = "UTC"
    """Zone of the times the outlet prints in its bodies without an offset (measured on the corpus)."""


def _re(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


OUTLETS: tuple[Outlet, ...] = (
    Outlet("dw", ("dw.com",), (_re(r"/a-(?P<n>\d+)/?$"), _re(r"^/api/detail/article/(?P<n>\d+)$"))),
    Outlet(
        "bbc",
        ("bbc.com", "bbc.co.uk"),
        (_re(r"/(?P<id>[a-z][a-z-]*-\d{6,})/?$"), _re(r"/(?P<id>\d{6}_[a-z0-9_]+)\.shtml$")),
        (_re(r"^/(?:zhongwen|ukchina)/(?:simp|trad)/(?:\d+|.*/\d{4}/\d\d/\d{6}_[^/]+\.shtml)$"),),
    ),
    Outlet("bitterwinter", ("bitterwinter.org",), (_re(r"^/(?P<id>[a-z0-9]+(?:-[a-z0-9]+)+)/?$"),)),
    Outlet("cctv-xwlb", ("cn.govopendata.com",), (_re(r"^/xinwenlianbo/(?P<id>\d{8})/?$"),)),
    Outlet("cdt", ("chinadigitaltimes.net",), (), (_re(r"^/chinese/\d{4}/\d\d/[^/]+/?$"),)),
    Outlet("cna", ("cna.com.tw",), (_re(r"^/news/[a-z]+/(?P<id>\d{12})\.aspx$"),)),
    Outlet("epochtimes", ("epochtimes.com",), (_re(r"/(?P<id>n\d+)\.html?$"),)),
    Outlet(
        "nytimes",
        ("nytimes.com",),
        (_re(r"/(?P<a>\d{8})/(?P<b>[a-z0-9][a-z0-9-]*)/?$"),),
        (_re(r"^/\d{4}/\d\d/\d\d/.+\.html$"),),
        time_zone="Asia/Shanghai",
    ),
    Outlet("reuters", ("reuters.com",), (_re(r"^/article/[^/]*?-?(?P<id>id[A-Z0-9]{6,})$"),)),
    Outlet("rfa", ("rfa.org",), (_re(r"^/mandarin/.*/(?P<id>[A-Za-z0-9]+-\d{14})\.html$"),)),
    Outlet(
        "rfi",
        ("rfi.fr",),
        (),
        (_re(r"^/+(?:cn|tw)/(?:[^/]+/)*\d{8}-[^/]+$"), _re(r"^/+(?:cn|tw)/[^/]*(?:-[^/]*|[^/-]{4,})$")),
        time_zone="Europe/Paris",
    ),
    Outlet("rti", ("rti.org.tw",), (_re(r"^/news/view/id/(?P<id>\d+)$"),)),
    Outlet("solidot", ("solidot.org",), (_re(r"^/story\?(?:.*&)?sid=(?P<n>\d+)"),)),
    Outlet("voa", ("voachinese.com", "voanews.com"), (_re(r"^/a/(?:[^/]+/)?(?P<id>\d+)\.html$"),)),
    Outlet("wqw", ("wqw2010.blogspot.com",), (_re(r"^/(?P<a>\d{4})/(?P<b>\d\d/[^/]+)\.html$"),)),
    Outlet("zaobao", ("zaobao.com", "zaobao.com.sg"), (_re(r"/story(?P<id>\d{8}-\d+)$"),)),
)

UNKNOWN_OUTLET = "unknown"
"""The outlet of an article whose file names no URL."""
MAX_ID_LENGTH = 80
"""Ids are cut to this length (they are file names; long Bitter Winter and NYT slugs exceed it)."""
_ID_PREFIX = {"dw": "a-", "solidot": "sid-"}
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def host_of(url: str) -> str:
    """The lower-cased host name of ``url`` (no port, no user), or ``""`` when it has none."""
    try:
        return (urlsplit(url.strip()).hostname or "").rstrip(".")
    except ValueError:
        return ""


def find_outlet(host: str) -> Outlet | None:
    """The known outlet serving ``host``, if any."""
    host = host.lower()
    for outlet in OUTLETS:
        for domain in outlet.domains:
            if host == domain or host.endswith("." + domain):
                return outlet
    return None


def outlet_from_host(host: str) -> str:
    """Short outlet name for ``host`` (``www.dw.com`` -> ``dw``); unknown hosts give the host without ``www.``, no
    host gives :data:`UNKNOWN_OUTLET`."""
    outlet = find_outlet(host)
    if outlet is not None:
        return outlet.name
    return host.lower().removeprefix("www.") or UNKNOWN_OUTLET


def _host_and_target(url: str) -> tuple[str, str] | None:
    """The host and ``path[?query]`` of ``url``, or None when it cannot be split.

    A fragment holding a ``/`` is kept (``dw.com/zh/#话题/a-55384004``: a headline starting with ``#``
    pushed the id into the fragment); other fragments only point inside the page.
    """
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    if "/" in parts.fragment:
        target += f"#{parts.fragment}"
    return (parts.hostname or "", target)


def _outlet_id(outlet: Outlet, target: str) -> str | None:
    for pattern in outlet.ids:
        match = pattern.search(target)
        if match is None:
            continue
        groups = match.groupdict()
        if "n" in groups:
            return _ID_PREFIX[outlet.name] + groups["n"]
        if "id" in groups:
            return groups["id"]
        return f"{groups['a']}-{groups['b'].replace('/', '-')}"
    return None


def hash_id(url: str) -> str:
    """``h`` + the first 16 hex digits of the SHA-1 of ``url`` without its scheme."""
    return "h" + hashlib.sha1(_SCHEME.sub("", url, count=1).encode("utf-8")).hexdigest()[:16]


def content_id(title: str, body: str) -> str:
    """The id of an article without a URL: ``h`` + the first 16 hex digits of the SHA-1 of its title and body
    source (whitespace runs collapsed, so line ends and re-wrapping don't change it)."""
    text = " ".join(title.split()) + "\n" + " ".join(body.split())
    return "h" + hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def article_id_from_url(url: str) -> str:
    """The outlet's own article id in ``url`` where it has one, otherwise :func:`hash_id`."""
    split = _host_and_target(url)
    if split is not None:
        outlet = find_outlet(split[0])
        if outlet is not None:
            found = _outlet_id(outlet, split[1])
            if found is not None:
                return found[:MAX_ID_LENGTH]
    return hash_id(url)


def is_article_url(url: str) -> bool:
    """Whether ``url`` is an article page of a known outlet (so a link to it is a related article)."""
    split = _host_and_target(url)
    if split is None:
        return False
    outlet = find_outlet(split[0])
    if outlet is None:
        return False
    target = unquote(split[1])
    return _outlet_id(outlet, split[1]) is not None or any(p.search(target) for p in outlet.pages)
