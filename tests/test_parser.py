"""The article parser on the reference article, one small fixture per outlet shape and per quirk, and every
kind of bad input (see docs/input-format.md for the decisions tested here)."""

from __future__ import annotations

import os
import pickle
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import pytest

from indexer import parser as parser_module
from indexer.article import Article, GalleryItem, Image, Link
from indexer.outlets import article_id_from_url, hash_id, is_article_url, outlet_from_host
from indexer.parser import DEFAULT_MAX_BYTES, MAX_DEPTH, ParseError, parse_bytes, parse_file

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "examples" / "dw-67150547.md"
ARTICLES = Path(__file__).resolve().parent / "fixtures" / "articles"


def parse(name: str) -> Article:
    return parse_file(ARTICLES / name)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


# --- the reference article, field by field ------------------------------------------------------------


def test_reference_article_fields() -> None:
    article = parse_file(REFERENCE)
    assert article.id == "a-67150547"
    assert article.outlet == "dw"
    assert article.host == "www.dw.com"
    assert article.url == (
        "https://www.dw.com/zh/%E4%B8%BA%E6%99%AE%E4%BA%AC%E6%89%93%E5%89%8D%E7%AB%99%20%E4%BF%84%E5%A4%96"
        "%E9%95%BF%E6%8B%89%E5%A4%AB%E7%BD%97%E5%A4%AB%E6%8B%9C%E4%BC%9A%E9%87%91%E6%AD%A3%E6%81%A9/a-67150547"
    )
    assert article.title == "为普京打前站 俄外长拉夫罗夫拜会金正恩"
    assert article.published_at == utc(2023, 10, 19, 13, 17, 2)
    assert article.body_time == utc(2023, 10, 19, 13, 8, 46, 609000)
    assert article.byline == ""
    assert article.warnings == ()
    assert article.time_source == "comment"
    assert len(article.paragraphs) == 22
    assert article.paragraphs[0] == (
        "（德国之声中文网）俄罗斯外交部周四（10月19日）表示，俄罗斯外交部长拉夫罗夫拜会了朝鲜领导人金正恩，"
        "两国建立了更紧密的关系，以对付他们认为充满敌意和侵略性的美国为首的西方联盟。"
    )
    assert article.paragraphs[13] == (
        "拉夫罗夫此次对朝鲜进行为期两天的访问。一个月之前，朝鲜领导人金正恩罕见地访问了俄罗斯，"
        "他邀请普京访问平壤，并讨论了两国间的军事合作。"
    )
    assert article.paragraphs[-1] == "（路透社）"
    assert article.headings == (
        "拉夫罗夫：朝、中、俄在寻求缓解地区紧张",
        "朝俄之间近期至少有六次海上运输",
        "白宫：令人不安的事态发展",
    )
    assert article.images == (
        Image("https://static.dw.com/image/67147821_303.jpg", "美韩对俄罗斯与朝鲜之间的交往增加表示担忧"),
        Image(
            "https://static.dw.com/image/67147806_303.jpg",
            "图为2023年10月19日，俄罗斯外长拉夫罗夫出席在朝鲜平壤举行的敬献花圈仪式",
        ),
    )
    assert article.links == (
        Link(
            "https://api.dw.com/api/detail/article/66809640", "。一个月之前，朝鲜领导人金正恩罕见地访问了俄罗斯", True
        ),
        Link("https://api.dw.com/api/detail/article/66836979", "并讨论了两国间的军事合作。", True),
        Link("https://api.dw.com/api/detail/article/67123432", "普京本周访华", True),
    )
    assert article.gallery_title == "相关图集：纪念停战70周年 朝中俄互动频频"
    assert [item.title for item in article.gallery] == [
        "中俄座上宾",
        "习近平来信",
        "疫情封锁",
        "展示武器",
        "访朝目的",
        "亲往志愿军烈士陵园",
        "朝鲜战争",
        "阅兵活动",
    ]
    assert article.gallery[1] == GalleryItem(
        "习近平来信",
        "这是金正恩自疫情爆发以来首次公开证实接待外宾团。根据朝鲜中央通讯社，金正恩与李鸿忠会面期间，"
        "对方转交了一份习近平的私人信函。",
        "https://static.dw.com/image/66361900_303.jpg",
    )
    assert article.boilerplate == (
        "© 2023年德国之声版权声明：本文所有内容受到著作权法保护，如无德国之声特别授权，不得擅自使用。"
        "任何不当行为都将导致追偿，并受到刑事追究。",
    )
    assert article.tags == ()


def test_reference_article_keeps_captions_and_gallery_out_of_paragraphs() -> None:
    article = parse_file(REFERENCE)
    body = "".join(article.paragraphs)
    for text in [*article.captions, *(item.caption for item in article.gallery), article.gallery_title]:
        assert text not in body
    assert not any(text in body for text in article.headings + article.boilerplate)


def test_parse_bytes_equals_parse_file() -> None:
    assert parse_bytes(REFERENCE.read_bytes(), str(REFERENCE)) == parse_file(REFERENCE)


# --- outlet shapes ------------------------------------------------------------------------------------


def test_bbc_grid_drops_repeated_headline_and_reads_time_byline_alt_and_tables() -> None:
    article = parse("bbc-grid.md")
    assert (article.id, article.outlet) == ("chinese-news-54703484", "bbc")
    assert article.body_time == utc(2020, 10, 27)
    assert article.byline == "陈志芬 BBC中文网记者"
    assert article.paragraphs == (
        "美国大选日益临近，而中美之间紧张气氛仍在上升。本周，中国宣布将对几家美国企业实施制裁。",
        "赵立坚周一在例行记者会上表示，中方这样做是为“维护国家利益”。",
        "韩国",
        "年份 2019 2020",
        "人数 0 2",
    )
    assert article.headings == ("“维护国家利益”",)
    assert article.images == (
        Image(
            "https://ichef.bbci.co.uk/news/600/cpsprodpb/F512/production/_115083726_gettyimages-71485833x.jpg",
            "台湾空军一架美制F-16飞机参加汉光演习期间资料照片。",
        ),
    )
    assert article.links == (
        Link("https://www.bbc.com/zhongwen/simp/chinese-news-54667676", "美中台关系：美国对台军售", True),
        Link("https://www.bbc.com/zhongwen/simp/world-52307879", "肺炎疫情下美中台三角关系的变与不变", True),
    )
    assert article.warnings == ()


def test_bbc_story_body_skips_screen_reader_labels_and_keeps_credits_apart() -> None:
    article = parse("bbc-story-body.md")
    assert article.body_time == utc(2020, 6, 25)
    assert article.paragraphs == (
        "美国白宫贸易顾问纳瓦罗称，中美间的贸易协议“结束了”。",
        "此言一出，全球市场动荡。",
        "纳瓦罗是特朗普政府中的对华强硬派。",
    )
    assert article.headings == ("谁是纳瓦罗？",)
    assert article.images[0] == Image(
        "https://ichef.bbci.co.uk/news/640/cpsprodpb/5BA6/production/_112326432_trade.jpg", "纳瓦罗（左）与特朗普"
    )
    assert article.boilerplate == ("Getty Images", "广告", "你的器材不支持播放多媒体材料")
    assert "Image caption" not in str(article)


def test_bitterwinter_lead_heading_tags_relative_links_and_donation_widget() -> None:
    article = parse("bitterwinter.md")
    assert article.id == "church-of-almighty-god-members-tortured-to-reveal-information"
    assert article.paragraphs[0].startswith("電擊、辣椒水抹眼口鼻")
    assert article.headings == ("其他省份",)
    assert article.images == (
        Image("https://zh.bitterwinter.org/wp-content/uploads/2020/12/基督徒被吊铐.jpg", "吊銬酷刑（網絡圖片）"),
    )
    assert article.tags == ("江蘇省",)
    assert article.links == (
        Link("https://zh.bitterwinter.org/tag/jiangsu-province/", "江蘇省", False),
        Link(
            "https://zh.bitterwinter.org/1634-church-of-almighty-god-members-arrested-in-first-half-of-2020/",
            "千餘名",
            True,
        ),
    )


def test_cctv_xwlb_list_items_are_paragraphs_and_anchors_into_the_page_are_not_related() -> None:
    article = parse("cctv-xwlb.md")
    assert (article.id, article.outlet) == ("20201205", "cctv-xwlb")
    assert article.paragraphs == (
        "【“十三五”，我们这五年】西海固：从苦甲天下到告别贫困",
        "开放脚步加快 海南自贸港建设提速",
        "国内联播快讯",
    )
    assert [link.related for link in article.links] == [False, False, False]


def test_cdt_hash_id_bold_blocks_related_reading_tags_and_footers() -> None:
    article = parse("cdt.md")
    assert article.id == hash_id("https://chinadigitaltimes.net/chinese/2020/12/%e5%bc%a6%e5%ad%90/")
    assert article.title == "【404文库】]人间思想笔记｜弦子：对案件保持关注，本身就有意义"
    assert article.paragraphs == (
        "作者：金牙",
        "这是一篇迟到了两天的推送。",
        "弦子：那天其实没有想到会有这么多人来现场。",
        "相关阅读：",
        "https://www.youtube.com/watch?v=qZOgAWUEPWs&feature=youtu.be",
    )
    assert article.headings == (
        "Q1：周三庭审那天有很多人来到法院门口，你当时看到那么多人有怎样的感受？",
        "以下为中国数字时代编辑摘自网友评论：",
    )
    assert article.images[0].caption == "（法院门口等待的人们）"
    assert Link("https://chinadigitaltimes.net/chinese/2020/07/%e6%81%a9%e6%b3%bd/", "恩泽：封城的后果", True) in (
        article.links
    )
    assert article.links[-1].url == "https://www.youtube.com/watch?v=qZOgAWUEPWs&feature=youtu.be"
    assert article.tags == ("弦子", "MeToo")
    assert article.boilerplate == (
        "© 金牙 for 中国数字时代, get_post_time('Y'). |Permalink Post tags: 弦子, MeToo",
        "Feed enhanced by Better Feed from Ozh",
    )


def test_cna_picinfo_lazyload_alt_more_articles_and_subscription_box() -> None:
    article = parse("cna.md")
    assert (article.id, article.title) == ("202008030080", "總統主持監察院長陳菊等宣誓 罕見握手致意[影]")
    assert article.paragraphs == (
        "（中央社記者葉素萍台北3日電）總統蔡英文今天主持第六屆監察院院長宣誓典禮。",
        "宣誓後，蔡總統與陳菊握手致意。（編輯：張銘坤）1090803",
    )
    assert article.images == (
        Image(
            "https://imgcdn.cna.com.tw/www/WebPhotos/1024/20200803/1200x800_4981.jpg",
            "第6屆監察院院長宣誓典禮3日上午在總統府舉行。中央社記者鄭傑文攝 109年8月3日",
        ),
        Image(
            "https://imgcdn.cna.com.tw/www/WebPhotos/1024/20200803/995x768_4981159.jpg",
            "蔡英文（前左）向陳菊（前右3）握手致意。",
        ),
    )
    assert article.links == (
        Link("https://www.cna.com.tw/news/aipl/202008010014.aspx", "陳菊接任監察院長", True),
        Link("https://www.cna.com.tw/news/aipl/202007310123.aspx", "監委宣誓就職", True),
    )
    assert article.boilerplate == (
        "訂閱《早安世界》電子報 每天3分鐘掌握10件天下事 請輸入正確的電子信箱格式 訂閱",
        "延伸閱讀",
    )


def test_dw_byline_lost_image_address_related_only_block_and_untitled_gallery() -> None:
    article = parse("dw-byline.md")
    assert article.byline == "文山（综合报道）"
    assert article.body_time == utc(2020, 6, 28, 7, 9, 14, 260000)
    assert article.paragraphs == (
        "（德国之声中文网）全球新冠病毒确诊病例已突破1000万。",
        "美国仍是受影响最严重的国家。",
    )
    assert article.images == (
        Image("https://static.dw.com/image/46985804_303.jpg", ""),
        Image("", "疫情下的柏林街头"),
    )
    assert article.links == (Link("https://api.dw.com/api/detail/article/53781647", "延伸阅读：拉美疫情失控", True),)
    assert article.gallery_title == ""
    assert article.gallery == (
        GalleryItem(
            "新冠病例全球激增",
            "新冠肺炎的全球感染数字在6月28日突破1000万例。",
            "https://api.dw.com/image/53784653_303.jpg",
        ),
        GalleryItem("美国疫情持续肆虐", "美国1月底确诊首例。", "https://api.dw.com/image/53524340_303.jpg"),
    )
    assert article.boilerplate == (
        "© 2020年德国之声版权声明：本文所有内容受到著作权法保护。",
        "获取更多RSS： https://feedx.net https://feedx.xyz",
    )


def test_epochtimes_tags_figure_caption_and_related_link_inside_text() -> None:
    article = parse("epochtimes.md")
    assert article.id == "n12434837"
    assert article.headings == ("中共外交部宣称引质疑",)
    assert article.images == (
        Image(
            "https://i.epochtimes.com/assets/uploads/2020/09/morrison-600x400.jpg",
            "澳洲总理莫里森。（Sam Mooy/Getty Images）",
        ),
    )
    assert article.tags == ("武汉肺炎", "中共外交部")
    assert article.paragraphs[-2:] == ("相关文章：川普联大发言", "责任编辑：林妍#")
    assert article.links[-1] == Link("https://www.epochtimes.com/gb/20/9/26/n12432100.htm", "川普联大发言", True)


def test_nytimes_beijing_time_byline_and_english_original_link() -> None:
    article = parse("nytimes.md")
    assert article.id == "20201130-iran-nuclear-scientist-killed"
    assert article.byline == "BARBARA SLAVIN"
    assert article.body_time == utc(2020, 11, 30, 7, 7, 3)  # printed 15:07:03 in Beijing
    assert article.warnings == ()
    assert article.paragraphs[-2:] == ("Barbara Slavin在大西洋理事会指导伊朗未来倡议。", "翻译：晋其角")
    assert article.links[-1] == Link(
        "https://www.nytimes.com/2020/11/28/opinion/iran-nuclear-scientist-killed.html", "点击查看本文英文版。", True
    )
    assert article.images[0].url.startswith("https://static01.nyt.com/images/2020/11/28/")


def test_reuters_naive_time_is_utc_and_figure_caption_and_trust_badge() -> None:
    article = parse("reuters.md")
    assert article.id == "idCNKBS23V0IX"
    assert article.body_time == utc(2020, 6, 24, 4, 35, 52)
    assert article.images == (
        Image(
            "https://s4.reutersmedia.net/resources/r/?m=02&d=20200624&t=2&i=1523290942&w=600",
            "资料图片：2019年5月，北京，华为门店。REUTERS/Jason Lee",
        ),
    )
    assert article.paragraphs == (
        "路透华盛顿6月23日 - 美国商务部周二发布了有关华为芯片新规的说明。",
        "新的规定扩大美国主管机关权限。(完)",
        "编译 蔡美珍;审校 王颖",
    )
    assert article.boilerplate == ("我们的标准：汤森路透“信任原则”",)


def test_rfa_related_list_caption_credit_zoom_icon_and_bare_carriage_return() -> None:
    raw = (ARTICLES / "rfa.md").read_bytes()
    assert b"\r" in raw.split(b"\n")[4]
    article = parse("rfa.md")
    assert article.id == "gf1-06302020091729"
    assert article.paragraphs == (
        "中国海关总署宣布暂停进口部分澳洲牛肉。",
        "澳洲贸易部长表示将寻求与中方对话。",
        "自由亚洲电台记者乔龙 责编：嘉远 网编：洪伟",
    )
    assert article.headings == ("澳方回应",)
    assert article.images == (
        Image(
            "https://www.rfa.org/mandarin/yataibaodao/jingmao/gf1-06302020091729.html/cl1109.jpg",
            "资料图片：澳大利亚牧场的牛群。（美联社）",
        ),
    )
    assert article.links == (
        Link(
            "http://www.rfa.org/mandarin/yataibaodao/junshiwaijiao/gf-11092020061513.html",
            "拜登胜选北京罕见保持沉默",
            True,
        ),
    )
    assert article.boilerplate == ("Photo: RFA",)


def test_rfi_paris_time_bold_lead_noscript_image_and_afp_copyright() -> None:
    article = parse("rfi.md")
    assert article.outlet == "rfi"
    assert article.body_time == utc(2020, 10, 6, 22, 29)  # printed 00:29 in Paris (CEST)
    assert article.paragraphs == (
        "Array",
        "中国十一长假期间，虽然火车站和购物中心里到处都是人，但是中国人并没有疯狂地消费。",
        "法国世界报周二刊出了一篇有关中国十一长假个人消费的文章。",
        "新加坡的报道指出\ufffdQ里岛游客减少。",
    )
    assert article.headings == ()
    assert article.images[1] == Image(
        "https://s.rfi.fr/media/display/55117976/w:310/p:16x9/Capture-80.JPG", "国庆黄金周期间的北京王府井。 © 法广"
    )
    assert article.boilerplate == ("© 2020 AFP",)
    assert "继续浏览后续" not in str(article)
    assert article.warnings == ("1 replacement character(s) U+FFFD: the feed lost characters",)


def test_rti_teaser_with_title_attribute_caption() -> None:
    article = parse("rti.md")
    assert (article.id, article.title) == ("2073361", "[生活] 今新增3例自菲國移入確診 台灣累計458例")
    assert article.images[0].caption == "武漢肺炎疫情 ，台灣24日新增3例境外移入確診個案。(衛福部臉書)"
    assert article.paragraphs[0].startswith("中央流行疫情指揮中心今天(24日)舉行臨時記者會")
    assert article.links == (Link("https://www.rti.org.tw/news/view/id/2073361", "...more", False),)


def test_solidot_bare_text_and_links_to_other_outlets_articles() -> None:
    article = parse("solidot.md")
    assert article.id == "sid-66161"
    assert article.paragraphs == (
        "中国前不久公布了《关于平台经济领域的反垄断指南（征求意见稿）》，加强对科技巨头的监管。"
        "阿里巴巴是监管的主要目标，此前其关联公司蚂蚁的 IPO 被紧急叫停。",
    )
    assert article.links == (
        Link("https://www.solidot.org/story?sid=66053", "公布", True),
        Link("https://www.reuters.com/article/us-ant-group-ipo-idUSKBN27J0HX", "紧急叫停", True),
    )
    assert article.images == (Image("https://img.solidot.org//0/446/liiLIZF8Uh6yM.jpg", ""),)


def test_voa_gmt_time_video_poster_caption_once_and_question_heading() -> None:
    article = parse("voa.md")
    assert article.body_time == utc(2020, 6, 26, 2, 3, 47)
    assert article.images == (
        Image(
            "https://gdb.voanews.com/93101bd7-96a7-4b55-b961-b8c2217a08cc_tv_r1_s_w900.jpg",
            "时事大家谈：美中“媒体战”再升温，北京的攻势VS华盛顿的反击",
        ),
        Image(
            "https://gdb.voanews.com/8C0DCD2C-EEA0_w900.jpg", "总部设在杭州的海康威视是世界最大的视频监控设备制造商。"
        ),
    )
    assert article.paragraphs[:2] == ("嘉宾：冯崇义 澳大利亚悉尼科技大学教授", "嘉宾：虞平 旅美法律学者")
    assert article.headings == ("中国触角伸到美国？",)
    assert article.boilerplate == ("获取更多RSS： https://feedx.net https://feedx.xyz",)


def test_wqw_word_html_spans_join_without_spaces() -> None:
    article = parse("wqw.md")
    assert article.id == "2021-01-blog-post_53"
    assert article.paragraphs == (
        "（维权网信息中心报道）2021年1月7日，本网获悉：无锡人权捍卫者沈爱斌17岁女儿案二审作出裁定。",
        "沈爱斌联系电话：17348228687。",
    )
    assert article.headings == ("控告请求：",)
    assert article.images == (
        Image("https://1.bp.blogspot.com/-Ka1ivGcVBQk/X_cfLOfW_sI/AAAAAAABtuA/w464-h640/C0ABBF1F.jpeg", ""),
    )
    assert article.links == ()


def test_zaobao_title_attribute_image_figcaption_and_ad_slots() -> None:
    article = parse("zaobao.md")
    assert article.id == "20200723-1071360"
    assert article.images[0].caption == "天问一号探测器由长征五号遥四运载火箭发射升空。（法新社）"
    assert article.paragraphs == (
        "中国天问一号探测器今天（23日）发射升空，首次火星探测任务正式启动。",
        "中国国家航天局说，探测器成功进入预定轨道。",
    )


# --- quirks that are indexed -------------------------------------------------------------------------------


def test_entities_double_escapes_and_whitespace() -> None:
    article = parse("quirk-entities.md")
    assert article.title == '美网封后后腿筋仍痛 大坂直美退法网 "RFI"'
    assert article.paragraphs == (
        "大坂直美 周五宣布 退出法网——她说“腿筋仍痛”。",
        "Q&A：伤情问答 与 AT&T 无关，R&D 也不是 <实体>。",
    )
    assert article.links == (Link("https://example.org/news?id=1&lang=zh", "Q&A：伤情问答", False),)
    assert article.warnings == ()


def test_bare_carriage_returns_are_whitespace_not_line_ends() -> None:
    article = parse("quirk-bare-cr.md")
    assert article.paragraphs == ("香港众志宣布解散， 成员相继退党。", "记者：乔龙")
    assert article.images[0].caption == "黄之锋 （资料图片）"
    assert article.warnings == ()


def test_replacement_characters_are_kept_with_a_warning() -> None:
    article = parse("quirk-fffd.md")
    assert article.title == "印尼\ufffdQ里岛推迟重新开放"
    assert article.paragraphs == ("印尼官员表示，\ufffdQ里岛将推迟对外国游客重新开放。",)
    assert article.warnings == ("2 replacement character(s) U+FFFD: the feed lost characters",)


@pytest.mark.parametrize(
    ("name", "label", "paragraph"),
    [
        ("quirk-gb18030.md", "GB18030", "中国国家航天局说，探测器成功进入预定轨道，开启火星探测之旅。"),
        ("quirk-big5.md", "Big5", "宣誓後，蔡總統與陳菊握手，並逐一向其他宣誓人點頭致意，儀式簡單隆重。"),
    ],
)
def test_legacy_chinese_encodings_are_decoded_with_a_warning(name: str, label: str, paragraph: str) -> None:
    raw = (ARTICLES / name).read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    article = parse(name)
    assert article.paragraphs[-1] == paragraph
    assert article.warnings == (f"not UTF-8: decoded as {label}",)


def test_bom_and_crlf_line_ends_are_accepted() -> None:
    article = parse("quirk-bom-crlf.md")
    assert (article.id, article.title) == ("a-53784676", "新冠疫情：全球确诊突破千万")
    assert article.published_at == utc(2020, 6, 28, 7, 54, 6)
    assert article.paragraphs == ("全球新冠病毒确诊病例已突破1000万。",)
    assert article.warnings == ("UTF-8 byte order mark at the start: skipped", "CRLF line ends (Windows)")


def test_unusable_header_time_falls_back_to_the_body_time() -> None:
    article = parse("quirk-bad-date.md")
    assert article.published_at == article.body_time == utc(2023, 10, 19, 13, 8, 46, 609000)
    assert article.time_source == "body"
    assert article.warnings == (
        "header time '2023-10-19' is not epoch milliseconds",
        "no usable header time: published_at is the body time 2023-10-19T13:08:46.609000+00:00",
    )


@pytest.mark.parametrize(
    ("name", "first_warning"),
    [
        ("quirk-no-date.md", "header time '' is not epoch milliseconds"),
        ("quirk-date-out-of-range.md", "header time 1606110677 (1970-01-19) is outside 1990-2099"),
    ],
)
def test_no_time_at_all_gives_none_and_stays_searchable(name: str, first_warning: str) -> None:
    article = parse(name)
    assert (article.published_at, article.time_source) == (None, "none")
    assert article.paragraphs == ("阿里巴巴集团董事会主席张勇表达了对监管政策的支持。",)
    assert article.warnings == (
        first_warning,
        "no usable time in the header, the body or a date line: published_at is None (undated)",
    )


def test_header_and_body_time_far_apart_keep_the_header_with_a_warning() -> None:
    article = parse("quirk-time-mismatch.md")
    assert article.published_at == utc(2020, 7, 19, 9)
    assert article.body_time == utc(2020, 7, 9, 9, 20)
    assert article.byline == "洪沙"
    assert article.warnings == (
        "header time 2020-07-19T09:00:00+00:00 and body time 2020-07-09T09:20:00+00:00 differ by 10.0 days",
    )


def test_times_within_the_tolerance_give_no_warning() -> None:
    text = (ARTICLES / "quirk-time-mismatch.md").read_text(encoding="utf-8")
    article = parse_bytes(text.replace("1595149200000", "1594372800000").encode())  # 23 h 40 min later
    assert article.warnings == ()


def test_empty_title_is_indexed_with_a_warning() -> None:
    article = parse("quirk-no-title.md")
    assert (article.id, article.title) == ("20200627-1064791", "")
    assert article.paragraphs == ("中国国务院新闻办公室今天发表白皮书。",)
    assert article.warnings == ("no title on line 2",)


def test_file_ending_after_the_title_line_is_indexed_as_title_only() -> None:
    article = parse("quirk-title-only.md")
    assert (article.id, article.title, article.paragraphs) == (
        "a-67150547",
        "为普京打前站 俄外长拉夫罗夫拜会金正恩",
        (),
    )
    assert article.published_at == utc(2023, 10, 19, 13, 17, 2)
    assert article.warnings == ("file ends before the body line (truncated): title only",)


def test_body_cut_off_keeps_what_is_there() -> None:
    article = parse("quirk-truncated-body.md")
    assert article.paragraphs == (
        "俄罗斯外交部周四表示，拉夫罗夫拜会了金正恩。",
        "俄罗斯官媒塔斯社报道称，会晤持续了一个多",
    )
    assert article.warnings == ("no newline at the end of the file: it may be cut off (truncated)",)


def test_file_cut_inside_a_utf8_character() -> None:
    data = (ARTICLES / "quirk-no-title.md").read_bytes()
    article = parse_bytes(data[: data.index("书".encode()) + 2], "cut.md")  # inside the 书 of 白皮书
    assert article.paragraphs == ("中国国务院新闻办公室今天发表白皮",)
    assert article.warnings == (
        "file ends inside a UTF-8 character: it was cut off (truncated)",
        "no newline at the end of the file: it may be cut off (truncated)",
        "no title on line 2",
    )


def test_a_few_invalid_utf8_bytes_become_replacement_characters() -> None:
    data = REFERENCE.read_bytes().replace("金正恩".encode(), b"\xff\xfe", 1)
    article = parse_bytes(data, "damaged.md")
    assert "\ufffd\ufffd" in article.title
    assert article.warnings[0].startswith("2 invalid UTF-8 byte sequence(s) replaced by U+FFFD (first at byte")


def test_empty_body_and_body_without_text_are_indexed_with_a_warning() -> None:
    empty = parse("quirk-empty-body.md")
    assert (empty.id, empty.paragraphs, empty.warnings) == ("a-52798287", (), ("empty body",))
    no_text = parse("quirk-no-text.md")
    assert no_text.paragraphs == ()
    assert no_text.boilerplate == ("获取更多RSS： https://feedx.net https://feedx.xyz",)
    assert no_text.warnings == ("no text in the body (only embeds, links or footers)",)


def test_malformed_html_is_recovered_without_losing_text() -> None:
    article = parse("quirk-malformed.md")
    assert article.paragraphs == (
        "第一段没有结束",
        "第二段加粗交错斜体结束",
        "第三段属性坏了",
        "单元格",
        "第四段 < 不是标签 > 也不是",
        "孤立列表项",
    )
    assert article.warnings == ()


def test_html_hiding_most_of_the_body_is_reported() -> None:
    article = parse("quirk-unterminated-attribute.md")
    assert article.paragraphs == ("（中央社記者汪淑芬台北2日電）中秋連假第2天，高公局預估國道7路段易塞車。",)
    assert article.warnings == (
        "broken HTML: only 21% of the body's non-ASCII text could be read (an unterminated tag or attribute hides"
        " the rest)",
    )


@pytest.mark.parametrize(("opening", "closing"), [("<div>", "</div>"), ("<b>", ""), ("<span><i>", "")])
@pytest.mark.parametrize("depth", [331, 500, 1000])
def test_deeply_nested_html_is_read_as_plain_text_with_a_warning(opening: str, closing: str, depth: int) -> None:
    """Hundreds of nested <div> or unclosed inline tags (hostile input) exhausted Python's recursion limit in the
    tree walk (RecursionError: the whole run was lost). Beyond MAX_DEPTH the walk reads plain text, blocks apart."""
    head = "<!--1593330846000-->\n[深层嵌套](https://www.dw.com/zh/a-1)\n------\n\n"
    body = opening * depth + "<p>第一段</p>最深处的文字<br>第二行" + closing * depth
    article = parse_bytes(f"{head}{body}\n".encode())
    assert article.paragraphs == ("第一段", "最深处的文字", "第二行")
    assert article.warnings == (
        f"HTML nested deeper than {MAX_DEPTH} elements: the deeper part was read as plain text",
    )


def test_nesting_up_to_the_cap_is_walked_as_usual() -> None:
    head = "<!--1593330846000-->\n[嵌套](https://www.dw.com/zh/a-1)\n------\n\n"
    body = "<div>" * (MAX_DEPTH - 3) + "<p><b>小标题</b></p><p>正文。</p>" + "</div>" * (MAX_DEPTH - 3)
    article = parse_bytes(f"{head}{body}\n".encode())
    assert (article.headings, article.paragraphs, article.warnings) == (("小标题",), ("正文。",), ())


def test_an_unexpected_failure_rejects_the_file_instead_of_raising(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(parser_module._BodyReader, "read", broken)
    with pytest.raises(ParseError) as caught:
        parse_file(REFERENCE)
    assert (caught.value.reason, caught.value.detail) == ("parser-error", "the parser failed (RuntimeError: a bug)")


# --- bad input that is rejected ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "reason", "detail"),
    [
        ("quirk-empty.md", "empty", "empty file"),
        ("quirk-binary.md", "binary", "binary data (NUL bytes or an image/archive signature), not text"),
        (
            "quirk-latin1.md",
            "encoding",
            "not UTF-8 (29 invalid byte sequences, first at byte 22) nor GB18030 or Big5 Chinese",
        ),
        ("quirk-header-only.md", "no-article", "holds no article: no title and no body text"),
    ],
)
def test_rejected_files_name_the_file_and_the_problem(name: str, reason: str, detail: str) -> None:
    path = ARTICLES / name
    with pytest.raises(ParseError) as caught:
        parse_file(path)
    assert (caught.value.path, caught.value.reason, caught.value.detail) == (str(path), reason, detail)
    assert str(caught.value) == f"{path}: {detail}"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"  \n\n", "empty"),
        (b"\x89PNG\r\n\x1a\n" + bytes(200), "binary"),
        (b"<!--1593330846000-->\n" + bytes(range(1, 32)) * 20, "binary"),
        (b"<!--1593330846000-->\n\n", "no-article"),
    ],
)
def test_rejected_bytes(data: bytes, reason: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_bytes(data, "memory.md")
    assert caught.value.reason == reason
    assert str(caught.value).startswith("memory.md: ")


def test_a_50_mb_file_is_rejected_from_its_size_without_being_read(tmp_path: Path) -> None:
    big = tmp_path / "big.md"
    with open(big, "wb") as handle:
        handle.truncate(50 * 1024 * 1024)  # sparse: no disk space, and reading it would cost 50 MB
    tracemalloc.start()
    try:
        with pytest.raises(ParseError) as caught:
            parse_file(big)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert caught.value.reason == "too-large"
    assert caught.value.detail == f"file is 52,428,800 bytes, over the {DEFAULT_MAX_BYTES:,} limit"
    assert peak < 1024 * 1024


def test_the_size_limit_is_a_parameter() -> None:
    size = REFERENCE.stat().st_size
    assert parse_file(REFERENCE, max_bytes=size).id == "a-67150547"
    with pytest.raises(ParseError) as caught:
        parse_file(REFERENCE, max_bytes=size - 1)
    assert caught.value.reason == "too-large"


def test_missing_files_and_directories_are_unreadable(tmp_path: Path) -> None:
    for path in (tmp_path / "missing.md", tmp_path):
        with pytest.raises(ParseError) as caught:
            parse_file(path)
        assert caught.value.reason == "unreadable"
        assert str(caught.value).startswith(f"{os.fspath(path)}: ")


def test_parse_error_survives_pickling_for_worker_processes() -> None:
    error = ParseError("a/b.md", "no-url", "line 2 has no http(s) URL: ''")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.path, copy.reason, copy.detail, str(copy)) == (
        "a/b.md",
        "no-url",
        "line 2 has no http(s) URL: ''",
        "a/b.md: line 2 has no http(s) URL: ''",
    )


# --- outlets and ids ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "outlet"),
    [
        ("www.dw.com", "dw"),
        ("api.dw.com", "dw"),
        ("www.bbc.co.uk", "bbc"),
        ("WWW.BBC.COM", "bbc"),
        ("cn.govopendata.com", "cctv-xwlb"),
        ("chinadigitaltimes.net", "cdt"),
        ("m.cn.nytimes.com", "nytimes"),
        ("www.zaobao.com.sg", "zaobao"),
        ("wqw2010.blogspot.com", "wqw"),
        ("www.ftchinese.com", "ftchinese.com"),
        ("example.org", "example.org"),
        ("notdw.com", "notdw.com"),
    ],
)
def test_outlet_from_host(host: str, outlet: str) -> None:
    assert outlet_from_host(host) == outlet


@pytest.mark.parametrize(
    ("url", "article_id"),
    [
        ("https://www.dw.com/zh/%E4%B8%BA/a-67150547", "a-67150547"),
        ("https://www.dw.com/zh/#%E6%95%99%E8%82%B2/a-55384004", "a-55384004"),
        ("https://api.dw.com/api/detail/article/66809640", "a-66809640"),
        ("http://www.bbc.com/zhongwen/simp/chinese-news-53319362", "chinese-news-53319362"),
        (
            "http://www.bbc.co.uk/zhongwen/simp/china/2014/09/140924_macau_junket_anti_corruption.shtml",
            "140924_macau_junket_anti_corruption",
        ),
        ("https://cn.govopendata.com/xinwenlianbo/20201001/", "20201001"),
        ("https://www.cna.com.tw/news/firstnews/202101160019.aspx", "202101160019"),
        ("https://www.epochtimes.com/gb/20/12/7/n12601106.htm", "n12601106"),
        ("https://cn.nytimes.com/business/20210112/china-renminbi-yuan-strong/", "20210112-china-renminbi-yuan-strong"),
        ("https://cn.reuters.com/article/poll-japan-plant-covid-productivity-0716-idCNKCS24H041", "idCNKCS24H041"),
        ("https://www.rfa.org/mandarin/yataibaodao/junshiwaijiao/CL-08312020131513.html", "CL-08312020131513"),
        ("https://www.rti.org.tw/news/view/id/2073374", "2073374"),
        ("https://www.solidot.org/story?sid=66288", "sid-66288"),
        ("https://www.voachinese.com/a/5490738.html", "5490738"),
        ("https://www.voachinese.com/a/xi-compared-to-stalin-06252020/5477724.html", "5477724"),
        ("https://wqw2010.blogspot.com/2020/10/blog-post_36.html", "2020-10-blog-post_36"),
        ("https://www.zaobao.com/realtime/china/story20200810-1075906", "20200810-1075906"),
        (
            "https://zh.bitterwinter.org/a-book-trailer-launched-for-massimo-introvignes-book-on-the-church-of-almighty-god/",
            "a-book-trailer-launched-for-massimo-introvignes-book-on-the-church-of-almighty-g",
        ),
        # no own id: h + 16 hex digits of the SHA-1 of the URL without its scheme
        ("http://www.bbc.com/zhongwen/simp/53484203", "he23f4b575bbb8c87"),
        (
            "http://www.bbc.co.uk/zhongwen/simp/china/2014/09/140925_xinjiang_llham-tohti_appeal.shtml",
            "ha784eba3d72e4ec3",
        ),
        ("https://example.org/some/page", hash_id("https://example.org/some/page")),
    ],
)
def test_article_id_from_url(url: str, article_id: str) -> None:
    assert article_id_from_url(url) == article_id


def test_hash_id_ignores_the_scheme() -> None:
    url = "chinadigitaltimes.net/chinese/2021/01/x/"
    assert hash_id("https://" + url) == hash_id("http://" + url) == hash_id(url)
    assert len(hash_id(url)) == 17


@pytest.mark.parametrize(
    ("url", "article"),
    [
        ("https://www.rfi.fr/cn/%E4%B8%AD%E5%9B%BD/20200717-rfi-%E6%B3%95%E5%B9%BF", True),
        ("https://www.rfi.fr/tw/尼古拉", False),
        ("https://chinadigitaltimes.net/chinese/2020/07/%e6%81%a9%e6%b3%bd/", True),
        ("https://chinadigitaltimes.net/chinese/tag/%e5%bc%a6%e5%ad%90/", False),
        ("https://www.nytimes.com/2020/11/28/opinion/iran-nuclear-scientist-killed.html", True),
        ("https://www.epochtimes.com/gb/tag/%E6%AD%A6%E6%B1%89%E8%82%BA%E7%82%8E.html", False),
        ("https://www.youtube.com/watch?v=qZOgAWUEPWs", False),
        ("https：//broken", False),
    ],
)
def test_is_article_url(url: str, article: bool) -> None:
    assert is_article_url(url) is article
