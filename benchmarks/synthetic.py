"""Seeded generator of realistic synthetic complaint records for the benchmarks.

Texts are assembled from hand-written Chinese fragments (openings, products, defects,
grievances, demands, threats, closings); lengths follow a log-normal skew (median ~60).
"""

from __future__ import annotations

import math
import random
import statistics
from datetime import date, datetime, timedelta
from typing import Any

DOMAINS: tuple[str, ...] = (
    "real_estate", "auto_dealer", "electronics", "cosmetics", "manufacturing",
)

CHANNELS: tuple[tuple[str, int], ...] = (
    ("phone", 40), ("web", 15), ("visit", 10), ("email", 6), ("letter", 2), ("fax", 1),
    ("factory_system", 6), ("onsite_verbal", 5), ("callback", 6), ("key_account_visit", 3),
    ("other", 6),
)

DEMANDS: tuple[str, ...] = (
    "compensation", "refund", "exchange", "repair", "corrective_action", "apology",
    "design_change",
)

#: What each domain's customers complain about: product nouns.
PRODUCTS: dict[str, tuple[str, ...]] = {
    "real_estate": (
        "房子", "卫生间", "厨房", "主卧", "次卧", "客厅", "阳台", "外墙", "地下车库", "屋顶",
        "窗户", "入户门", "地板", "吊顶", "下水管", "电梯", "楼道", "小区大门", "地暖", "飘窗",
    ),
    "auto_dealer": (
        "新车", "车", "发动机", "变速箱", "空调", "刹车", "轮胎", "天窗", "中控屏", "倒车影像",
        "车门", "雨刮", "大灯", "座椅", "方向盘", "车漆", "后备箱", "蓄电池", "导航", "音响",
    ),
    "electronics": (
        "手机", "笔记本电脑", "平板", "耳机", "电视", "冰箱", "洗衣机", "空调", "热水器",
        "路由器", "智能手表", "充电器", "显示器", "扫地机器人", "微波炉", "电饭煲", "相机",
        "音箱", "投影仪", "吸尘器",
    ),
    "cosmetics": (
        "面霜", "精华液", "粉底液", "口红", "眼霜", "面膜", "防晒霜", "卸妆油", "洗面奶",
        "爽肤水", "乳液", "气垫", "眉笔", "香水", "睫毛膏", "散粉", "护手霜", "套装",
    ),
    "manufacturing": (
        "轴承", "齿轮", "电机", "注塑件", "钣金件", "线束", "控制板", "密封圈", "阀门", "铸件",
        "紧固件", "传感器", "包装箱", "原材料", "半成品", "模具", "弹簧", "连接器",
    ),
}

#: Domain-specific defect phrases; ``{p}`` is replaced by a product noun.
DEFECTS: dict[str, tuple[str, ...]] = {
    "real_estate": (
        "{p}漏水", "{p}墙面开裂", "{p}渗水严重", "{p}有很大的裂缝", "{p}瓷砖空鼓",
        "{p}地面下沉", "{p}发霉了", "{p}关不严，漏风", "{p}一下雨就滴水", "{p}下水倒灌",
        "{p}墙皮大面积脱落", "{p}跳闸，电路有问题", "{p}异味很重，怀疑甲醛超标",
        "{p}门锁坏了打不开门", "{p}没有暖气", "{p}水压太低",
    ),
    "auto_dealer": (
        "{p}异响", "{p}有咔咔响的声音", "{p}换挡顿挫", "{p}抖动得厉害", "{p}故障灯常亮",
        "{p}打不着火", "{p}漏油", "{p}油耗比宣传高很多", "{p}掉漆起泡", "{p}失灵",
        "{p}不制冷", "{p}黑屏", "{p}有划痕", "{p}跑高速时方向盘发抖", "{p}刹车发软",
        "{p}熄火了两次",
    ),
    "electronics": (
        "{p}开不了机", "{p}黑屏", "{p}自动重启", "{p}充不进电", "{p}电池鼓包", "{p}屏幕碎了",
        "{p}发烫", "{p}不制冷", "{p}噪音很大", "{p}连不上WiFi", "{p}蓝牙连不上", "{p}花屏",
        "{p}死机", "{p}漏电，手碰一下麻麻的", "{p}冒烟有焦糊味", "{p}续航很差",
    ),
    "cosmetics": (
        "用了{p}脸上起红疹", "{p}用完过敏红肿", "{p}有异味", "{p}油水分离", "{p}变质发臭",
        "{p}泵头按不下", "{p}包装破损", "{p}生产日期看不清", "{p}瓶盖漏液", "{p}里面有杂质",
        "{p}颜色和专柜试的不一样", "{p}结块", "{p}快过期了", "擦了{p}皮肤刺痛",
        "{p}标签贴错了", "{p}少了赠品",
    ),
    "manufacturing": (
        "这批{p}尺寸偏差超差", "{p}表面有毛刺", "{p}批次不良率很高", "{p}装配不上",
        "{p}断裂", "{p}生锈", "{p}有裂纹", "{p}数量短缺", "{p}发错型号", "{p}硬度不够",
        "{p}批号不清", "{p}包装压坏", "{p}导致我们产线停了", "{p}来料检验不合格",
        "{p}混料", "{p}耐压测试失效",
    ),
}

OPENINGS: tuple[str, ...] = (
    "你好", "您好", "喂，你好", "我要投诉", "我想反映个问题", "客服你好", "请问是售后吗",
    "麻烦帮我看一下", "我是你们的老客户了", "我又打来了", "打了好几次电话了", "经理你好",
    "我是三号楼的业主", "我是上周来提车的", "我在你们专柜买的", "我们公司是你们的供应商客户",
    "写这封信是想反映", "说实话很无奈", "本来不想打这个电话的", "早上好",
)

TIMES: tuple[str, ...] = (
    "上周", "昨天", "前天", "三天前", "上个月", "今天早上", "刚才", "半年前", "去年年底",
    "收货当天", "交房第二个月", "提车才一个星期", "保养完第二天", "买了不到一个月",
    "国庆节前", "五月份",
)

DETAILS: tuple[str, ...] = (
    "已经是第二次了", "第三次出现同样的问题", "之前修过一次没修好", "打电话一直没人接",
    "等了半天没人理", "你们的工作人员态度很差", "说好的三天上门结果没来", "一拖再拖",
    "每次都说在处理", "销售顾问当时承诺过的", "维修完没几天又坏了", "我请了两天假在家等",
    "孩子在家都不敢用", "家里老人很担心", "照片和视频我都拍了", "发票和合同都在",
    "群里好多业主都是这样", "朋友也买了同款也有问题", "保修期还没过", "检测报告还没出来",
    "前台让我自己联系厂家", "转了好几个部门", "客服只会说抱歉", "你们给的两次方案我都不接受",
    "工程师说是正常现象我不认同", "收了检测费却没查出问题", "上门的师傅迟到两个小时",
    "配件说要等一个月", "店里的环境很差", "我是按说明书操作的", "没有摔过也没进水",
)

NARRATIVES: tuple[str, ...] = (
    "当时销售跟我说这个问题很常见，回去过几天自己就好了，结果越来越严重",
    "我第一时间就打了你们的客服电话，对方记录了之后说四十八小时内会有人联系我",
    "后来我又自己跑了一趟门店，排队排了一个多小时，最后被告知负责的人不在",
    "周末专门空出时间在家等，从早上九点等到下午五点，一个电话都没有",
    "我们这边的生产计划全被打乱了，下游客户天天在催货，损失谁来承担",
    "师傅来了看了一眼就说要换整个总成，报价比外面贵了将近一倍",
    "我查了一下网上很多人反映过同样的情况，说明这不是个别现象",
    "家里有老人和小孩，出了事情谁负责，我现在每天都提心吊胆的",
    "合同里写得清清楚楚，交付时间和标准都有约定，你们现在却不认账",
    "用了大概一个星期左右，脸上开始发红发痒，停用以后才慢慢好转",
    "检测报告拖了快一个月才给，上面的结论和我实际看到的情况完全对不上",
    "我不是故意找麻烦，只是希望你们能认真对待，把问题彻底解决",
)

NEUTRAL: tuple[str, ...] = (
    "我是老客户了", "之前也来过几次", "家里人都说好", "上次来也是这位师傅接待的",
    "孩子特别喜欢", "下周还会再来", "顺便问一下会员积分怎么用", "整体体验还不错",
    "朋友推荐我来的", "环境也挺干净的", "排队的人不多", "手续办得很快",
)

GRIEVANCES: tuple[str, ...] = (
    "这是什么服务态度", "太不负责任了", "你们就是在敷衍", "我非常不满意", "真的很失望",
    "这样的质量也敢卖", "简直岂有此理", "把客户当什么了", "互相推诿踢皮球", "我受够了",
    "你们到底能不能解决", "乱收费", "说好的事情一件都没做到", "我花钱买罪受",
)

DEMANDS_TEXT: tuple[str, ...] = (
    "要求赔偿损失", "请尽快安排师傅上门", "要求退货退款", "必须给我换新的", "请给个说法",
    "要求出书面整改报告", "请提供8D报告", "希望尽快处理", "要求承担误工费", "麻烦派人来看看",
    "请给我一个明确的答复", "要求赔礼道歉", "要求更改设计方案", "希望免费维修",
    "请安排检测", "要求退一赔三",
)

THREATS: tuple[str, ...] = (
    "不解决我就打12315", "我会找媒体曝光", "我要去消协投诉", "再不处理我就起诉你们",
    "我已经咨询律师了", "我会发到微博和抖音上", "我会向市场监管局反映", "准备走法律程序",
    "我要上黑猫投诉", "不行就打12345",
)

CLOSINGS: tuple[str, ...] = (
    "谢谢", "麻烦了", "辛苦了", "等你们回复", "盼复", "请尽快回电", "谢谢配合",
    "我的电话是13812345678", "有问题请联系我", "拜托了",
)

PRAISES: tuple[str, ...] = (
    "想表扬一下你们的{s}，服务非常耐心", "{s}很专业，问题一次就解决了，点赞",
    "非常感谢{s}，大晚上还过来帮忙", "这次服务很满意，给{s}点个赞", "{s}态度很好，值得表扬",
    "特别感谢{s}的耐心讲解",
)

INQUIRIES: tuple[str, ...] = (
    "请问{p}的保修期是多久", "想问一下{p}怎么申请维修", "请问你们几点营业",
    "想了解一下{p}的维修进度", "{p}保养一次多少钱", "请问交房流程是怎样的",
    "{p}可以延保吗", "请问地址在哪里", "{p}的说明书哪里可以下载", "想咨询一下退换货政策",
)

CHALLENGES: tuple[str, ...] = (
    "为什么{p}还要收检测费", "凭什么说是人为损坏", "收费标准是什么，请解释一下",
    "你们判定不在保修范围的依据是什么", "这个结论我不认可", "为什么工时费比上次贵这么多",
    "明明说好免费的，怎么又收费", "说是正常现象，依据是什么",
)

SUGGESTIONS: tuple[str, ...] = (
    "建议你们增加周末的上门时间", "希望能增加线上预约功能", "建议休息区多放几把椅子",
    "希望以后维修进度可以短信通知", "建议说明书写得详细一点", "可以考虑延长营业时间",
    "希望APP能查到维修记录", "建议小区多设几个充电桩",
)

STAFF: tuple[str, ...] = (
    "王师傅", "李经理", "小张", "服务顾问小刘", "陈工", "赵师傅", "柜员小周", "前台的孙小姐",
    "客服小何", "技师老吴",
)

ENGLISH: tuple[str, ...] = (
    "APP", "WiFi", "OK", "VIP", "bug", "sorry", "email", "CEO", "USB-C", "iPhone", "SKU",
    "Bluetooth", "PDF", "ＡＰＰ", "ｖｉｐ", "８Ｄ",
)

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"
TITLES: tuple[str, ...] = ("先生", "女士", "总", "经理", "老师")
TIERS: tuple[str, ...] = ("standard", "standard", "standard", "silver", "gold", "vip",
                          "key_account")

LINES: dict[str, tuple[str, ...]] = {
    "real_estate": ("住宅精装", "住宅毛坯", "商铺", "公寓"),
    "auto_dealer": ("轿车", "SUV", "新能源"),
    "electronics": ("手机", "家电", "电脑"),
    "cosmetics": ("护肤", "彩妆", "香氛"),
    "manufacturing": ("汽配", "电子元件", "机加工"),
}

#: Simplified -> Traditional for characters the generator writes; the library folds them back.
_SIMPLIFIED = ("车门时问题还没这们个电务态质费赔偿应处报发现经过"
               "让给机开关后买卖实间么样为钱换货坏响")
_TRADITIONAL = ("車門時問題還沒這們個電務態質費賠償應處報發現經過"
                "讓給機開關後買賣實間麼樣為錢換貨壞響")
TRADITIONAL: dict[int, str] = {ord(s): t for s, t in zip(_SIMPLIFIED, _TRADITIONAL, strict=True)}

MIN_LENGTH = 10
MAX_LENGTH = 300
MEDIAN_LENGTH = 60

KINDS: tuple[tuple[str, int], ...] = (
    ("complaint", 55), ("repair", 15), ("inquiry", 9), ("challenge", 8), ("suggestion", 5),
    ("praise", 8),
)


def _weighted(rng: random.Random, table: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([k for k, _ in table], weights=[w for _, w in table])[0]


def _target_length(rng: random.Random) -> int:
    """A text length drawn from a log-normal skew, median ~60, clipped to [10, 300]."""
    value = rng.lognormvariate(math.log(MEDIAN_LENGTH * 1.08), 0.6)
    return max(MIN_LENGTH, min(MAX_LENGTH, round(value)))


def _core(rng: random.Random, kind: str, domain: str) -> list[str]:
    """The clauses that say what the record is about."""
    product = rng.choice(PRODUCTS[domain])
    defect = rng.choice(DEFECTS[domain]).format(p=product)
    if kind == "praise":
        return [rng.choice(PRAISES).format(s=rng.choice(STAFF))]
    if kind == "inquiry":
        return [rng.choice(INQUIRIES).format(p=product)]
    if kind == "suggestion":
        return [rng.choice(SUGGESTIONS)]
    if kind == "challenge":
        return [rng.choice(CHALLENGES).format(p=product)]
    clauses = [f"{rng.choice(TIMES)}{defect}" if rng.random() < 0.5 else defect]
    if kind == "repair":
        clauses.append(rng.choice(("麻烦派人来看看", "请安排师傅上门维修", "帮忙检修一下",
                                   "想预约维修", "需要维修")))
    return clauses


def _extras(rng: random.Random, kind: str, domain: str) -> list[str]:
    """Optional clauses, most telling first, used to reach the target length."""
    if kind in ("praise", "suggestion", "inquiry"):
        pool = rng.sample(NEUTRAL, 4)
        pool.insert(1, rng.choice(CLOSINGS))
        return pool
    pool = rng.sample(DETAILS, 12)
    pool.insert(2, rng.choice(DEFECTS[domain]).format(p=rng.choice(PRODUCTS[domain])))
    if kind == "complaint":
        pool[1:1] = [rng.choice(GRIEVANCES), rng.choice(DEMANDS_TEXT)]
        if rng.random() < 0.25:
            pool.insert(2, rng.choice(THREATS))
    for i, narrative in enumerate(rng.sample(NARRATIVES, 5)):
        pool.insert(3 + 3 * i, narrative)
    return pool


def _join(rng: random.Random, clauses: list[str]) -> str:
    """Join clauses with mostly Chinese punctuation, sometimes half-width or none."""
    style = rng.random()
    if style < 0.08:
        return " ".join(clauses)
    comma, stop = ("，", "。") if style < 0.9 else (",", ".")
    out: list[str] = []
    for i, clause in enumerate(clauses):
        out.append(clause)
        if i == len(clauses) - 1:
            out.append(rng.choice((stop, stop, "！", "！！", "？", "")))
        else:
            out.append(comma if rng.random() < 0.7 else rng.choice((stop, "！", "，", "；")))
    return "".join(out)


def _text(rng: random.Random, kind: str, domain: str) -> str:
    """One complaint text of the given kind, close to a sampled target length."""
    target = _target_length(rng)
    core = _core(rng, kind, domain)
    opening = [rng.choice(OPENINGS)] if rng.random() < 0.35 else []
    closing = [rng.choice(CLOSINGS)] if rng.random() < 0.3 else []
    extras = _extras(rng, kind, domain)
    body = [*opening, *core]
    length = sum(len(c) + 1 for c in body + closing)
    middle: list[str] = []
    for clause in extras:
        if length >= target or length + len(clause) + 1 > target * 1.15:
            continue
        middle.append(clause)
        length += len(clause) + 1
    if rng.random() < 0.1:
        word = rng.choice(ENGLISH)
        middle.insert(rng.randrange(len(middle) + 1), f"{word}也有问题")
    text = _join(rng, [*body, *middle, *closing])
    if len(text) < MIN_LENGTH:
        text = _join(rng, [*body, *middle, rng.choice(DETAILS)])
    if len(text) > MAX_LENGTH:
        text = text[:MAX_LENGTH]
    roll = rng.random()
    if roll < 0.04:
        text = text.translate(TRADITIONAL)
    elif roll < 0.08:
        text = "".join(ch.translate(TRADITIONAL) if rng.random() < 0.3 else ch for ch in text)
    return text


def _record(rng: random.Random, index: int, seed: int) -> dict[str, Any]:
    """One record: required fields always, optional ones at realistic rates."""
    kind = _weighted(rng, KINDS)
    domain = rng.choice(DOMAINS)
    record: dict[str, Any] = {
        "id": f"S{seed}-{index:07d}",
        "channel": _weighted(rng, CHANNELS),
        "text": _text(rng, kind, domain),
    }
    if rng.random() < 0.92:
        product: dict[str, Any] = {"domain": domain}
        if rng.random() < 0.4:
            product["line"] = rng.choice(LINES[domain])
        if rng.random() < 0.3:
            product["model"] = f"{rng.choice('ABCDEFXZ')}{rng.randint(1, 99)}-{rng.randint(1, 9)}"
        if rng.random() < 0.25:
            bought = date(2024, 1, 1) + timedelta(days=rng.randrange(900))
            product["purchase_date"] = bought.isoformat()
        if domain == "manufacturing" and rng.random() < 0.5:
            product["lot"] = f"L{rng.randint(20240000, 20269999)}"
        record["product"] = product
    if rng.random() < 0.5:
        customer: dict[str, Any] = {"name": rng.choice(SURNAMES) + rng.choice(GIVEN)}
        if rng.random() < 0.7:
            customer["title"] = rng.choice(TITLES)
        if rng.random() < 0.6:
            customer["tier"] = rng.choice(TIERS)
        record["customer"] = customer
    if rng.random() < 0.4:
        received = datetime(2026, 1, 1, 8) + timedelta(minutes=rng.randrange(300 * 24 * 60))
        record["received_at"] = received.isoformat() + "+08:00"
    if kind == "complaint" and rng.random() < 0.2:
        record["prior_rejections"] = rng.choice((1, 1, 2, 2, 3, 4))
    if kind in ("complaint", "repair") and rng.random() < 0.3:
        record["demands"] = rng.sample(DEMANDS, rng.choice((1, 1, 2)))
    if rng.random() < 0.1:
        record["attributes"] = {"order_amount": rng.randint(50, 500_000),
                                "score": rng.randint(1, 5)}
    if rng.random() < 0.03:
        record["request_type"] = kind
    return record


def generate(n: int, seed: int = 0) -> list[dict[str, Any]]:
    """Return ``n`` synthetic complaint records (plain dicts, JSON-ready); same seed, same list."""
    rng = random.Random(seed)
    return [_record(rng, i, seed) for i in range(n)]


def _summary(n: int = 10_000) -> None:
    """Print length statistics and a few samples."""
    records = generate(n)
    lengths = sorted(len(r["text"]) for r in records)
    print(f"{n} records: min {lengths[0]}, median {statistics.median(lengths)}, "
          f"p90 {lengths[int(n * 0.9)]}, max {lengths[-1]}")
    for record in records[:8]:
        print(record["text"])


if __name__ == "__main__":
    _summary()
