"""Feeds we make up to prove that boilerplate is learnt per feed (all text written for the tests).

Three feeds of 10-12 posts. In each, every post has its own article paragraphs, and the posts
share a header, footer lines and a promotion line in varied forms: names, digits, URLs,
full-width characters and punctuation change from post to post. None of these templates is
in clean.py's rule table, so only learning can remove them. A few article paragraphs look like
a template but are not one (``LOOKALIKES``): they must stay.
"""

from fixture_posts import write_post

EDITORS = ("王小明", "李思远", "赵青")
CITIES = ("深圳", "北京")
GAMES = ("星海远航", "雾城侦探", "方块农场")

# Article paragraphs: a subject per post and a sentence per paragraph, so no two are alike.
_TOPICS = {
    "科技/样例科技网/快讯": (
        "临川市的一家芯片初创公司",
        "一家老牌家电企业",
        "南屿大学的机器人实验室",
        "某新能源车企",
        "一家做智能手表的小团队",
        "国内最大的二手手机平台",
        "溪川的一家无人机厂商",
        "一家云计算服务商",
        "某头部快递公司",
        "一家做翻译耳机的公司",
        "澄江区的一家电池回收工厂",
        "一家开源数据库社区",
    ),
    "财经/样例财经周刊/深度": (
        "沿海一座工业城市",
        "一家区域性商业银行",
        "某上市物流企业",
        "一家做冷链的民营公司",
        "中部一个农业大县",
        "一家连锁咖啡品牌",
        "某家纺出口企业",
        "一家社区养老机构",
        "一个县级文旅集团",
        "某光伏组件厂",
        "一家城市更新基金",
    ),
    "游戏/样例游戏站/新闻": (
        "一款像素风格的解谜游戏",
        "一家只有五个人的独立工作室",
        "某老牌赛车系列的新作",
        "一款卡牌对战手游",
        "一个以江南水乡为背景的冒险游戏",
        "某知名格斗游戏的年度赛事",
        "一款开放世界钓鱼游戏",
        "一个由学生团队制作的平台跳跃游戏",
        "某经典角色扮演游戏的复刻版",
        "一款多人合作烹饪游戏",
    ),
}
_SENTENCES = (
    "本周公布了一组新的数据，负责人在发布会上解释了背后的原因，并回答了现场提出的几个尖锐问题，气氛比预想中轻松。",
    "过去一年经历了不小的起伏，团队从年初的三十多人调整到现在的二十人左右，但核心成员基本没有变动，方向也更清楚了。",
    "在接受采访时提到，用户最常抱怨的并不是价格，而是售后流程太长，所以今年把大部分预算都投在了服务网点上。",
    "给出的时间表相当紧凑，第一阶段的测试计划在下个月完成，第二阶段则要看供应商能否按时交付关键部件，存在变数。",
    "的做法在业内引起了一些争议，支持者认为这是降低成本的必然选择，反对者则担心质量会因此下降，双方各有道理。",
)

_MORE = (
    "有分析人士指出，类似的情况在去年也出现过，只是当时没有引起太多关注，这一次的规模明显更大。",
    "不少同行在私下交流时表示，他们也在观望，等第一批结果出来再决定要不要跟进。",
    "从公开的材料看，相关计划至少还要经过两轮论证，最终落地的时间可能会推迟到明年春天。",
    "一位接近项目的人士透露，内部对这件事的看法并不统一，争论主要集中在投入产出比上。",
    "也有声音认为，这种尝试本身就有价值，哪怕最后没有成功，也能为后来者积累不少经验。",
)

LOOKALIKES = {
    # Near the end, short, starts like the follow call but is an article sentence.
    "科技/样例科技网/快讯": "关注样例科技网的读者会发现，本期快讯更偏向硬件。",
    # Starts like the byline ("样例财经周刊 | 文：…") without the word boundary after it.
    "财经/样例财经周刊/深度": "样例财经周刊文化版下月改版，欢迎读者来信。",
    # Starts like "相关游戏：{game}" without the colon: an ordinary sentence.
    "游戏/样例游戏站/新闻": "相关游戏的销量在第三季度明显回升，分析师认为这与新作预告有关。",
}
# A paragraph in the middle that quotes a template's words inside a longer sentence.
QUOTES = {
    "财经/样例财经周刊/深度": "有读者来信说，本文仅代表作者个人观点，不构成投资建议这句话看得太多，反而不知道哪些内容可信，编辑部为此专门开会讨论过一次。",
}

# Distinctive words of each feed's templates: none may be left in a post after stripping.
TEMPLATE_MARKERS = {
    "科技/样例科技网/快讯": ("首席记者", "头条配图由", "每日快讯", "微信号", "限时预售"),
    "财经/样例财经周刊/深度": ("样例财经周刊 |", "样例财经周刊｜", "不构成投资建议。", "完整榜单", "微信搜索"),
    "游戏/样例游戏站/新闻": (
        "原创 · 转载须经同意",
        "原创·转载须经同意",
        "值班小编",
        "游戏商店链接",
        "相关游戏：",
        "预购开启",
    ),
}


def article(feed, i):
    """The article paragraphs of post `i` of `feed`, as they come out of the cleaner."""
    topic = _TOPICS[feed][i]
    count = 5 + i % 2
    paragraphs = [topic + _SENTENCES[(i + j) % len(_SENTENCES)] + _MORE[(2 * i + j) % len(_MORE)] for j in range(count)]
    if feed in QUOTES and i == 2:
        paragraphs.insert(2, QUOTES[feed])
    return paragraphs


def _tech(i):
    name, city = EDITORS[i % 3], CITIES[i % 2]
    header = [
        f"【样例科技网】首席记者 {name} 发自{city}" if i % 2 else f"[样例科技网] 首席记者：{name} 发自{city}",
    ]
    if i % 3 != 2:
        header.append("头条配图由样例图库提供" if i % 2 else "（头条配图由样例图库提供）")
    promo = (
        f"限时预售：前{50 + i}名下单即送精美礼品，立即抢购 https://shop.example.cn/item/{1000 + i}"
        if i % 2
        else f"限时预售:前５{i}名下单即送精美礼品!立即抢购→https://shop.example.cn/item/{2000 + i}"
    )
    footer = []
    if i % 4 != 3:
        footer.append(
            f"—— 样例科技网 · 每日快讯 第{100 + i}期 ——" if i % 2 else f"——样例科技网·每日快讯 第 {100 + i} 期——"
        )
    if i % 3 != 1:
        footer.append(
            f"关注样例科技网微信号 yangli{i:02d}，获取更多前沿资讯：https://m.example.cn/u/{i * 7}"
            if i % 2
            else f"关注样例科技网微信号ｙａｎｇｌｉ{i:02d}，获取更多前沿资讯：https://m.example.cn/u/{i * 7}"
        )
    if i % 3 == 0:
        header.append(promo)  # the promotion sits at the top of some posts…
    elif i % 3 == 1:
        footer.insert(0, promo)  # …and at the bottom of others
    return header, footer


def _finance(i):
    writer, editor = EDITORS[i % 3], EDITORS[(i + 1) % 3]
    header = [f"样例财经周刊 | 文：{writer} 编辑：{editor}" if i % 2 else f"样例财经周刊｜文:{writer}  编辑:{editor}"]
    footer = [
        "（本文仅代表作者个人观点，不构成投资建议。市场有风险，投资需谨慎。）"
        if i % 2
        else "(本文仅代表作者个人观点,不构成投资建议。市场有风险,投资需谨慎。)"
    ]
    if i % 3 != 0:
        footer.append(f"点击阅读原文，查看第{i + 3}期完整榜单" if i % 2 else f"点击阅读原文,查看第 {i + 3} 期完整榜单!")
    if i % 4 != 1:
        footer.append(
            "微信搜索“样例财经周刊”或扫描文末二维码订阅"
            if i % 2
            else "微信搜索「样例财经周刊」，或扫描文末二维码订阅。"
        )
    return header, footer


def _games(i):
    header = ["样例游戏站原创 · 转载须经同意" if i % 2 else "样例游戏站原创·转载须经同意"]
    if i % 4 != 3:
        header.append(f"本期值班小编：{EDITORS[i % 3]}")
    footer = [f"相关游戏：{GAMES[i % 3]}"]
    if i % 3 != 2:
        footer.append(f"游戏商店链接：https://store.example.cn/app/{31000 + i * 13}")
    if i % 2:
        footer.append(
            "预购开启，现在下单即赠限定皮肤，数量有限先到先得！"
            if i % 4 == 1
            else "预购开启!现在下单即赠限定皮肤,数量有限,先到先得"
        )
    return header, footer


FEEDS = {
    "科技/样例科技网/快讯": (_tech, 12),
    "财经/样例财经周刊/深度": (_finance, 11),
    "游戏/样例游戏站/新闻": (_games, 10),
}


def post_paragraphs(feed, i):
    """(header, article, footer) paragraphs of post `i`; the look-alike goes before the footer."""
    make, _ = FEEDS[feed]
    header, footer = make(i)
    body = article(feed, i)
    if i == 4 and feed in LOOKALIKES:
        body = [*body, LOOKALIKES[feed]]
    return header, body, footer


def write_feeds(root):
    """Write every made-up feed under `root` as Hexo posts; return {feed: [relpath, …]}."""
    written = {}
    for feed, (_, n) in FEEDS.items():
        site = feed.split("/")[1]
        written[feed] = []
        for i in range(n):
            header, body, footer = post_paragraphs(feed, i)
            html = "".join(f"<p>{p}</p>" for p in [*header, *body, *footer])
            relpath = f"{feed}/第{i}篇.md"
            write_post(root, relpath, title=f"{site}第{i}篇", body=html, extra="")
            written[feed].append(relpath)
    return written
