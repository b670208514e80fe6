"""Story signatures and ids: copies cluster across edits and scripts, distinct articles don't, ids don't depend
on input order and survive incremental runs."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import opencc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rensa import RMinHash, RMinHashLSH

from indexer.article import Article
from indexer.stories import (
    BANDS,
    NUM_PERM,
    SEED,
    STORY_VERSION,
    Entry,
    Signature,
    StoryGraph,
    assign,
    candidates,
    containment,
    is_copy,
    shingles,
    signature,
    story_text,
)

FAIR = (
    "第十二届东海国际茶叶博览会周四在杭州开幕，来自23个国家和地区的800多家企业参展，展期四天，主办方预计将吸引超过15万人次参观。",
    "博览会组委会副主任李文华在开幕式上表示，今年展会首次设立“数字茶园”展区，集中展示无人机植保、智能灌溉和区块链溯源等新技术，希望帮助中小茶农提高产量和收入。",
    "据组委会介绍，本届展会的国际展区面积比上届扩大了三成，斯里兰卡、肯尼亚和越南等主要产茶国都派出了官方代表团，多家欧洲采购商也首次到场洽谈。",
    "一些参展商说，受运输成本上涨影响，今年出口订单的利润明显收窄。一名来自福建的茶企负责人对记者说：“订单不少，但每一箱的利润只有前年的一半。”",
    "分析人士指出，国内茶叶消费正在向年轻化和便捷化转变，瓶装茶饮和冷泡茶的销量近三年年均增长超过20%，传统茶企需要加快调整产品结构。",
    "博览会将持续到本周日，其间还将举办20多场论坛和贸易对接活动。",
)
"""An article written for these tests (not from the corpus)."""
OTHER_REPORT = (
    "为期四天的东海国际茶博会昨日在杭州揭幕。组委会称，本届共有800余家参展商，观众人数有望突破15万。",
    "记者在现场看到，新设的数字化展区人气最旺，不少茶农围在智能灌溉设备前询问价格。浙江一家茶叶合作社的社长王建国说，他打算今年就在自家茶园试用这套系统。",
    "与往年相比，今年的海外展商明显增多。来自肯尼亚的代表团团长在接受采访时说，中国市场对红茶的需求增长很快，他们希望借展会找到更多长期合作伙伴。",
    "不过，也有业内人士担心，茶叶价格近年波动较大，部分产区出现供过于求的情况，小规模茶农抵御风险的能力仍然有限。",
    "据悉，主办方还在展会期间安排了品鉴会和茶艺表演，市民可凭身份证免费入场。",
)
"""A separately written report of the same event, same day: same names and figures, other sentences."""
NOON = datetime(2020, 10, 22, 12, tzinfo=UTC)
_FULL_WIDTH = str.maketrans({char: chr(ord(char) + 0xFEE0) for char in ",.:;!?%()"} | {"，": ",", "：": ":"})


def article(doc_id: str, paragraphs: tuple[str, ...], title: str = "东海国际茶叶博览会开幕") -> Article:
    outlet, _, own = doc_id.partition(":")
    return Article(id=own, outlet=outlet, host="", url="", title=title, published_at=NOON, paragraphs=paragraphs)


def entry(doc_id: str, paragraphs: tuple[str, ...], at: datetime | None = NOON, story: str | None = None) -> Entry:
    return Entry(doc_id, at, signature(article(doc_id, paragraphs)), story)


COPIES = {
    "unchanged text": FAIR,
    "credit line": ("（中央社）" + FAIR[0], *FAIR[1:]),
    "last paragraph dropped": FAIR[:-1],
    "paragraph added": (*FAIR, "另据了解，明年的博览会将移师宁波举行。"),
    "full-width punctuation": tuple(paragraph.translate(_FULL_WIDTH) for paragraph in FAIR),
    "Traditional script": tuple(opencc.OpenCC("s2twp").convert(paragraph) for paragraph in FAIR),
    "excerpt of two paragraphs": FAIR[:2],
}


@pytest.mark.parametrize("edit", COPIES)
def test_copies_share_a_story(edit: str) -> None:
    original = entry("zaobao:1", FAIR)
    retitled = article("cna:2", COPIES[edit], title="杭州茶博会揭幕 八百企业参展")
    copy = Entry("cna:2", NOON + timedelta(hours=5), signature(retitled))
    assert is_copy(original, copy)
    assert assign([copy, original]) == {"zaobao:1": "zaobao:1", "cna:2": "zaobao:1"}


def test_title_is_not_compared() -> None:
    assert signature(article("a:1", FAIR, "茶博会开幕")) == signature(article("a:1", FAIR, "全然不同的标题"))


def test_traditional_text_folds_to_the_same_text() -> None:
    traditional = shingles(story_text(article("a:1", COPIES["Traditional script"])))
    simplified = shingles(story_text(article("a:1", FAIR)))
    assert len(traditional & simplified) / len(simplified) > 0.9


def test_same_topic_same_day_reports_are_distinct_stories() -> None:
    first, second = entry("zaobao:1", FAIR), entry("voa:2", OTHER_REPORT, NOON + timedelta(hours=1))
    assert first.signature and second.signature
    assert containment(first.signature, second.signature) < 0.2
    assert not is_copy(first, second)
    assert assign([first, second]) == {"zaobao:1": "zaobao:1", "voa:2": "voa:2"}


def test_same_text_outside_the_window_is_another_story() -> None:
    first, later = entry("reuters:1", FAIR), entry("reuters:2", FAIR, NOON + timedelta(days=10))
    assert not is_copy(first, later)
    assert assign([first, later])["reuters:2"] == "reuters:2"


def test_template_with_other_figures_is_another_story() -> None:
    """Daily reports that change only their numbers (exchange rates, case counts) are not copies."""
    day = (
        "路透北京10月22日 - 路透根据中国外汇交易中心公布的人民币汇率形成机制测算，"
        "人民币兑美元中间价周四预计会开在{}元附近，较上日升值约{}点。"
        "上日人民币兑美元即期收报{}元，而中间价则为{}元；逆周期因子影响暂未发生作用。"
    )
    first = entry("reuters:1", (day.format("6.6521", "260", "6.6610", "6.6781"),))
    second = entry("reuters:2", (day.format("6.6735", "179", "6.6540", "6.6556"),), NOON + timedelta(days=1))
    assert first.signature and second.signature
    assert containment(first.signature, second.signature) > 0.6
    assert not is_copy(first, second)


def test_short_text_has_no_signature_and_is_its_own_story() -> None:
    short = entry("dw:1", ("图片：柏林的秋天",))
    assert short.signature is None
    assert assign([short, entry("dw:2", ("图片：柏林的秋天",))]) == {"dw:1": "dw:1", "dw:2": "dw:2"}


def test_story_id_is_the_earliest_member_then_the_smallest_id() -> None:
    copies = [
        entry("voa:9", FAIR, NOON + timedelta(hours=2)),
        entry("rfi:5", FAIR[:-1], NOON),
        entry("cna:7", FAIR[1:], NOON),
        entry("bbc:1", FAIR, None),
    ]
    assert set(assign(copies).values()) == {"cna:7"}


def test_new_copy_joins_the_stored_story_even_when_published_earlier() -> None:
    stored = entry("reuters:1", FAIR, NOON, story="reuters:1")
    earlier = entry("zaobao:2", FAIR[:-1], NOON - timedelta(hours=3))
    assert assign([earlier], [stored]) == {"zaobao:2": "reuters:1"}


def test_new_copy_of_two_stored_stories_joins_the_one_of_the_earliest_match() -> None:
    left = entry("rfi:1", FAIR[:3], NOON, story="rfi:1")
    right = entry("voa:2", FAIR[3:], NOON - timedelta(hours=1), story="voa:0")
    bridge = entry("cdt:3", FAIR, NOON + timedelta(hours=1))
    assert is_copy(bridge, left) and is_copy(bridge, right) and not is_copy(left, right)
    assert assign([bridge], [left, right]) == {"cdt:3": "voa:0"}


def test_a_stored_entry_being_replaced_is_ignored() -> None:
    stored = entry("cna:1", FAIR, story="cna:0")
    assert assign([entry("cna:1", FAIR)], [stored]) == {"cna:1": "cna:1"}


def test_join_needs_a_stored_story() -> None:
    graph = StoryGraph()
    graph.add(entry("a:1", FAIR))
    with pytest.raises(ValueError, match="a:2 has no story"):
        graph.join("a:1", entry("a:2", FAIR))


def test_signature_round_trip_and_band_keys() -> None:
    sig = signature(article("a:1", FAIR))
    assert sig is not None
    assert Signature.decode(sig.encode(), sig.size, sorted(sig.numbers)) == sig
    keys = sig.band_keys()
    assert len(keys) == BANDS == len(set(keys))
    assert all(len(key) == 18 and key[:2].isdigit() for key in keys)
    assert {"23", "800", "15", "20"} <= sig.numbers


def test_signature_is_pinned() -> None:
    """A change here changes every stored signature: bump the rules number in STORY_VERSION with it."""
    sig = signature(article("a:1", FAIR))
    assert sig is not None
    assert (sig.size, sig.band_keys()[:2]) == (374, ("00b036e82f32f83411", "01f9969329ad39e906"))
    assert STORY_VERSION.startswith("1.rensa2.")


def test_band_keys_find_what_the_librarys_lsh_finds() -> None:
    rng = random.Random(3)
    texts = [tuple(rng.sample(FAIR + OTHER_REPORT, rng.randint(2, 5))) for _ in range(40)]
    entries = [entry(f"x:{n}", text) for n, text in enumerate(texts)]
    lsh = RMinHashLSH(threshold=0.2, num_perm=NUM_PERM, num_bands=BANDS)
    minhashes = []
    for n, text in enumerate(texts):
        minhash = RMinHash(num_perm=NUM_PERM, seed=SEED)
        minhash.update(sorted(shingles(story_text(article("x:0", text)))))
        lsh.insert(n, minhash)
        minhashes.append(minhash)
    expected = {(min(n, m), max(n, m)) for n, minhash in enumerate(minhashes) for m in lsh.query(minhash) if m != n}
    assert candidates(entries) == expected


def _corpus(draw: st.DrawFn) -> list[Entry]:
    """Copies of a few unrelated random texts, each copy trimmed differently, at random times."""
    rng = random.Random(draw(st.integers(0, 10_000)))
    alphabet = [chr(code) for code in range(0x4E00, 0x4E00 + 3000)]
    entries = []
    for base in range(draw(st.integers(1, 4))):
        paragraphs = tuple("".join(rng.choices(alphabet, k=80)) for _ in range(5))
        for copy in range(draw(st.integers(1, 4))):
            keep = paragraphs[: 5 - rng.randint(0, 2)]
            at = NOON + timedelta(hours=rng.randint(0, 60)) if rng.random() > 0.1 else None
            entries.append(Entry(f"o{copy}:{base}", at, signature(article(f"o{copy}:{base}", keep))))
    return entries


corpora = st.composite(_corpus)


@settings(max_examples=40, deadline=None)
@given(corpora(), st.randoms(use_true_random=False))
def test_ids_do_not_depend_on_input_order(entries: list[Entry], rng: random.Random) -> None:
    shuffled = entries[:]
    rng.shuffle(shuffled)
    assert assign(shuffled) == assign(entries)
    assert len(set(assign(entries).values())) == len({e.doc_id.split(":")[1] for e in entries})


@settings(max_examples=40, deadline=None)
@given(corpora(), st.integers(1, 4))
def test_incremental_runs_keep_ids_and_agree_with_one_run(entries: list[Entry], runs: int) -> None:
    """Loading in time order, in several runs, gives the ids of one run; stored ids never change."""
    ordered = sorted(entries, key=lambda e: (e.published_at or datetime.max.replace(tzinfo=UTC), e.doc_id))
    once = assign(ordered)
    stored: list[Entry] = []
    size = -(-len(ordered) // runs)
    for start in range(0, len(ordered), size):
        batch = ordered[start : start + size]
        result = assign(batch, stored)
        assert all(result[e.doc_id] == once[e.doc_id] for e in batch)
        stored += [replace(e, story=result[e.doc_id]) for e in batch]
    assert {e.doc_id: e.story for e in stored} == once
