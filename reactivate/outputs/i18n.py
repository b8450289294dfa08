"""English and Chinese text for the report and the segment profiles it shows.

One table per language; :func:`t` looks a key up and formats it. Text that
reactivate generates from data (segment names such as ``"High balance · Older"``,
shortfalls, suppression reasons) is translated phrase by phrase with
:func:`phrase`; a phrase without a translation (an analyst's own segment name)
is kept as written, never dropped. Theme names, openers and the headers of
the RM lists are translated where they are written (:mod:`reactivate.themes`,
:mod:`reactivate.outputs.writer`).
"""

from __future__ import annotations

import re

from reactivate.errors import ConfigError

LANGS = ("en", "zh")

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "report_title": "Reactivation plan",
        "report_subtitle": "Book of {as_of} · reactivate {version} · seed {seed}",
        "toc": "Contents",
        "overview": "Overview",
        "book_size": "customers in the book",
        "targets": "dormant customers targeted",
        "touches": "touches planned",
        "weeks": "weeks",
        "segments_n": "segments",
        "suppressed_n": "suppressed",
        "holdout_n": "holdout (never contacted)",
        "unscheduled_n": "left for later",
        "dormancy_title": "Customers by dormancy stage",
        "dormancy_x": "customers",
        "stage": "dormancy stage",
        "suppressed_title": "Suppressed: never contacted, by reason",
        "suppressed_none": "No customer is suppressed.",
        "reason": "reason",
        "customers": "customers",
        "funnel": "Funnel",
        "funnel_title": "From dormant to planned",
        "funnel_dormant": "dormant (targeted)",
        "funnel_eligible": "may be contacted",
        "funnel_planned": "planned",
        "funnel_holdout": "holdout",
        "funnel_unscheduled": "left for later",
        "profiles": "Segment profiles",
        "rank": "rank",
        "size": "size",
        "share": "share",
        "traits": "what sets it apart",
        "shortfalls": "where service fell short",
        "best_timing": "best timing",
        "start_week": "start week",
        "expected": "expected reactivations",
        "expected_value": "expected value",
        "mean_p": "mean p(reactivate)",
        "note": "analyst's note",
        "kind_carve-out": "rule-based carve-out",
        "kind_cluster": "cluster",
        "ranking": "Ranking",
        "ranking_title": "Segments by expected value",
        "ranking_x": "expected value of reactivations",
        "ranking_reason": "why this rank",
        "segment": "segment",
        "calendar": "Wave calendar",
        "calendar_title": "Touches per week by channel",
        "calendar_x": "week starting",
        "calendar_y": "touches",
        "waves_table": "Touches per wave",
        "wave": "wave",
        "wave_0": "0 · care first (hardship)",
        "wave_1": "1 · pilot",
        "wave_n": "{n} · main wave",
        "capacity": "Capacity use",
        "capacity_channel_title": "Capacity use per channel and week",
        "capacity_rm_title": "RM call capacity use per week (top {n} RMs by calls)",
        "capacity_rm_title_all": "RM call capacity use per week",
        "capacity_y_channel": "channel",
        "capacity_y_rm": "relationship manager",
        "capacity_cbar": "share of capacity used",
        "capacity_summary": "{used:,} of {capacity:,} slots used ({share:.0%}); peak week {peak:.0%}",
        "rm_summary": "{calls:,} RM calls; {full:,} RM-weeks at capacity; highest use {max:.0%}",
        "quality": "Data quality",
        "quality_none": "No findings: every input passed the checks.",
        "scoring_title": "Who will come back: the propensity source",
        "scoring_source": "source",
        "scoring_auc": "AUC",
        "scoring_lift": "top-decile lift",
        "scoring_used": "used",
        "scoring_slice_contacts": "Each source was trained on data before a held-out later slice and scored on it: "
                                  "the {rows:,} contacts from {day} on.",
        "scoring_slice_snapshot": "Each source was trained on data before a held-out later slice and scored on it: "
                                  "the {rows:,} customers dormant on {day} (did they come back?).",
        "scoring_none": "No held-out slice to compare on: the strongest source the data allows was used.",
        "scoring_decay": "Waiting costs about {per_week:.1%} of the chance of coming back per week ({source}).",
        "src_campaigns": "past campaigns (calibrated classifier)",
        "src_backtest": "backtest on the bank's history",
        "src_bgnbd": "BG/NBD repeat-activity model",
        "src_prior": "documented prior",
        "src_blend": "blend of the sources",
        "src_recency": "recency (days since the last purchase)",
        "src_freq/recency": "frequency / recency",
        "scoring_calibration": "Calibrated on the held-out slice (measured on the half the choice was not made on): "
                               "mean predicted {mean:.1%} against {observed:.1%} observed, Brier {brier:.4f}, "
                               "expected calibration error {ece:.3f}.",
        "inputs": "Inputs",
        "rows": "rows",
        "file": "file",
        "uplift": "What worked: uplift against the holdout",
        "uplift_title": "Uplift by {dimension} (95% interval)",
        "uplift_x": "uplift in reactivation rate (percentage points)",
        "uplift_none": "No outcomes recorded yet: uplift appears here once outcomes are recorded.",
        "treated": "contacted",
        "holdout": "holdout",
        "rate_treated": "rate contacted",
        "rate_holdout": "rate holdout",
        "ci": "95% interval",
        "level": "level",
        "capacity_col": "capacity",
        "rm_load_title": "RMs by share of their call capacity used, per week",
        "band_idle": "no calls",
        "band_1-25": "under 25%",
        "band_25-50": "25–50%",
        "band_50-75": "50–75%",
        "band_75-99": "75–99%",
        "band_full": "full",
        "rule": "rule",
        "peak_week": "peak week",
        "top10": "top 10%",
        "uplift_col": "uplift",
        "channel": "channel",
        "rm": "RM",
        "footer": "Generated by reactivate {version} from the plan of {as_of}. No personal data is shown: counts only.",
        "none_stands_out": "none stands out",
        "pilot_week1": "pilot in week 1, then waves by priority",
        "start_dated": "{share:.0%} have a deadline or maturity, most often {event} in week {week}",
        "rank_why": "expected {exp:,.0f} reactivations worth {value:,.0f} from {size:,} customers",
        "urgency": "urgency",
        "urgency_why": "waiting a week costs about {value:,.0f} of expected value",
        "top_reasons": "Most common reasons customers are ranked high",
        "cc_title": "Who cannot be contacted, and what to set",
        "cc_nobody": "Nobody can be contacted",
        "cc_some": "{n:,} of {of:,} targets cannot be contacted",
        "cc_no_columns": "{who}: they have no consenting channel, because the book has no consent columns "
                         "({where}) and the campaign assumes consent for {assumed}.",
        "cc_where_no_accounts": "no accounts file",
        "cc_where_no_columns": "the accounts have no consent_<channel> columns",
        "cc_assumed_none": "no channel",
        "cc_fix": "If your customers agreed to {channels} messages (e.g. when they signed up), set {set} in the "
                  "campaign spec (campaigns/purchase_log.toml does so for a plain purchase log).",
        "cc_off": "Give {channels} a weekly_capacity too: the campaign has them off.",
        "cc_no_consent": "{who}: they may be reached on no channel the campaign uses; check their reach and "
                         "consent (the has_<channel> and consent_<channel> columns of the accounts) and the "
                         "channels' weekly_capacity.",
        "cc_unscheduled": "Nobody is planned: all {n:,} customers left to plan went unscheduled, {top_n:,} of them "
                          "for \"{top}\"; check the channels' weekly_capacity and the value model.",
        "holdout_power": "Holdout per segment: can it detect the expected uplift?",
        "holdout_power_intro": "The contacted against the holdout of each segment (two-sided 5%, power 80%): the "
                               "smallest uplift the holdout can detect, and the holdout share that would detect the "
                               "expected uplift (without contact a segment is assumed to come back at {baseline:.0%} "
                               "of its expected rate).",
        "expected_rate": "expected rate",
        "expected_uplift": "expected uplift",
        "mde": "detectable uplift (MDE)",
        "share_needed": "holdout share needed",
        "measurable": "measurable",
        "yes": "yes",
        "no": "no",
        "not_at_half": "more than 50%",
    },
    "zh": {
        "report_title": "沉睡客户唤醒计划",
        "report_subtitle": "数据日期 {as_of} · reactivate {version} · 随机种子 {seed}",
        "toc": "目录",
        "overview": "总览",
        "book_size": "客户总数",
        "targets": "目标沉睡客户",
        "touches": "计划触达次数",
        "weeks": "周",
        "segments_n": "客群",
        "suppressed_n": "屏蔽（不联系）",
        "holdout_n": "对照组（不联系）",
        "unscheduled_n": "留待后续",
        "dormancy_title": "各沉睡阶段客户数",
        "dormancy_x": "客户数",
        "stage": "沉睡阶段",
        "suppressed_title": "屏蔽客户（不联系）及原因",
        "suppressed_none": "没有客户被屏蔽。",
        "reason": "原因",
        "customers": "客户数",
        "funnel": "漏斗",
        "funnel_title": "从沉睡到计划触达",
        "funnel_dormant": "沉睡（目标）",
        "funnel_eligible": "可联系",
        "funnel_planned": "已排期",
        "funnel_holdout": "对照组",
        "funnel_unscheduled": "留待后续",
        "profiles": "客群画像",
        "rank": "排名",
        "size": "人数",
        "share": "占比",
        "traits": "突出特征",
        "shortfalls": "服务不足之处",
        "best_timing": "最佳时机",
        "start_week": "开始周",
        "expected": "预计唤醒人数",
        "expected_value": "预计价值",
        "mean_p": "平均唤醒概率",
        "note": "分析师备注",
        "kind_carve-out": "规则划分",
        "kind_cluster": "聚类",
        "ranking": "排序",
        "ranking_title": "按预计价值排序的客群",
        "ranking_x": "预计唤醒价值",
        "ranking_reason": "排序理由",
        "segment": "客群",
        "calendar": "分波日历",
        "calendar_title": "每周各渠道触达次数",
        "calendar_x": "周起始日",
        "calendar_y": "触达次数",
        "waves_table": "各波次触达次数",
        "wave": "波次",
        "wave_0": "0 · 关怀优先（困难客户）",
        "wave_1": "1 · 试点",
        "wave_n": "{n} · 主波次",
        "capacity": "产能使用",
        "capacity_channel_title": "各渠道每周产能使用率",
        "capacity_rm_title": "理财经理每周外呼产能使用率（外呼最多的 {n} 位）",
        "capacity_rm_title_all": "理财经理每周外呼产能使用率",
        "capacity_y_channel": "渠道",
        "capacity_y_rm": "理财经理",
        "capacity_cbar": "产能使用率",
        "capacity_summary": "已用 {used:,} / {capacity:,}（{share:.0%}）；峰值周 {peak:.0%}",
        "rm_summary": "理财经理外呼 {calls:,} 次；满负荷的经理周数 {full:,}；最高使用率 {max:.0%}",
        "quality": "数据质量",
        "quality_none": "没有发现问题：所有输入均通过检查。",
        "scoring_title": "谁会回来：唤醒概率的来源",
        "scoring_source": "来源",
        "scoring_auc": "AUC",
        "scoring_lift": "前10%提升度",
        "scoring_used": "采用",
        "scoring_slice_contacts": "每个来源只用保留时间段之前的数据训练，并在该时间段上检验：{day} 起的 {rows:,} 次接触。",
        "scoring_slice_snapshot": "每个来源只用保留时间段之前的数据训练，并在该时间段上检验：{day} 时沉睡的 {rows:,} "
                                  "位客户（之后是否回来）。",
        "scoring_none": "没有可用于比较的保留时间段：采用数据允许的最强来源。",
        "scoring_decay": "每多等一周，回来的可能性约下降 {per_week:.1%}（{source}）。",
        "src_campaigns": "历史营销活动（校准分类器）",
        "src_backtest": "基于本行历史的回测",
        "src_bgnbd": "BG/NBD 重复活跃模型",
        "src_prior": "文档化先验",
        "src_blend": "多来源融合",
        "src_recency": "最近一次购买距今天数",
        "src_freq/recency": "频次 / 最近度",
        "scoring_calibration": "在保留时间段上校准（在未用于选择的一半上测量）：平均预测 {mean:.1%}，实际 {observed:.1%}，"
                               "Brier {brier:.4f}，期望校准误差 {ece:.3f}。",
        "inputs": "输入文件",
        "rows": "行数",
        "file": "文件",
        "uplift": "成效：相对对照组的提升",
        "uplift_title": "按{dimension}的提升（95% 置信区间）",
        "uplift_x": "唤醒率提升（百分点）",
        "uplift_none": "尚无结果记录：记录结果后此处显示提升。",
        "treated": "已联系",
        "holdout": "对照组",
        "rate_treated": "联系组唤醒率",
        "rate_holdout": "对照组唤醒率",
        "ci": "95% 区间",
        "level": "类别",
        "capacity_col": "产能",
        "rm_load_title": "理财经理每周外呼产能使用分布",
        "band_idle": "无外呼",
        "band_1-25": "低于 25%",
        "band_25-50": "25–50%",
        "band_50-75": "50–75%",
        "band_75-99": "75–99%",
        "band_full": "满负荷",
        "rule": "规则",
        "peak_week": "峰值周",
        "top10": "前 10%",
        "uplift_col": "提升",
        "channel": "渠道",
        "rm": "理财经理",
        "footer": "由 reactivate {version} 根据 {as_of} 的计划生成。不显示个人信息，仅显示统计数。",
        "none_stands_out": "无明显不足",
        "pilot_week1": "第 1 周试点，之后按优先级分波",
        "start_dated": "{share:.0%} 的客户有到期或监管期限，最常见为第 {week} 周的{event}",
        "rank_why": "{size:,} 位客户预计唤醒 {exp:,.0f} 位，价值 {value:,.0f}",
        "urgency": "紧迫性",
        "urgency_why": "每多等一周，预期价值约损失 {value:,.0f}",
        "top_reasons": "排名靠前的常见原因",
        "cc_title": "无法联系的客户及需要的设置",
        "cc_nobody": "无法联系任何客户",
        "cc_some": "{of:,} 名目标客户中有 {n:,} 名无法联系",
        "cc_no_columns": "{who}：他们没有任何已授权的渠道，因为数据中没有授权字段（{where}），而活动假定已授权的渠道为：{assumed}。",
        "cc_where_no_accounts": "没有账户文件",
        "cc_where_no_columns": "账户文件中没有 consent_<渠道> 字段",
        "cc_assumed_none": "无",
        "cc_fix": "若客户曾同意接收{channels}消息（例如注册时），请在活动配置中设置 {set}"
                  "（campaigns/purchase_log.toml 已为纯购买记录如此设置）。",
        "cc_off": "同时请为{channels}设置 weekly_capacity：活动中这些渠道是关闭的。",
        "cc_no_consent": "{who}：活动所用的渠道都无法联系到他们；请检查账户的 has_<渠道> 和 consent_<渠道> 字段以及各渠道的 weekly_capacity。",
        "cc_unscheduled": "没有安排任何触达：待安排的 {n:,} 名客户全部未排期，其中 {top_n:,} 名的原因是“{top}”；"
                          "请检查各渠道的 weekly_capacity 和价值模型。",
        "holdout_power": "各客群对照组：能否检测出预期提升？",
        "holdout_power_intro": "每个客群的联系组与对照组比较（双侧 5%，检验力 80%）：对照组能检测出的最小提升，"
                               "以及检测出预期提升所需的对照组比例（假定不联系时客群的唤醒率为预期唤醒率的 {baseline:.0%}）。",
        "expected_rate": "预期唤醒率",
        "expected_uplift": "预期提升",
        "mde": "最小可检测提升",
        "share_needed": "所需对照组比例",
        "measurable": "可衡量",
        "yes": "是",
        "no": "否",
        "not_at_half": "超过 50%",
    },
}

# Words reactivate puts into its outputs, and their Chinese. English is the identity.
PHRASES_ZH: dict[str, str] = {
    # dormancy stages
    "active": "活跃",
    "at_risk": "有沉睡风险",
    "dormant": "沉睡",
    "long_dormant": "长期沉睡",
    # channels
    "phone": "电话",
    "sms": "短信",
    "wechat": "微信",
    "email": "电子邮件",
    "app": "手机银行推送",
    "branch": "网点邀约",
    "mail": "信函",
    # events
    "deadline": "监管期限",
    "maturity": "存款到期",
    "birthday": "生日",
    "anniversary": "开户周年",
    "payday": "发薪日",
    "none": "无",
    # suppression reasons
    "deceased": "已故",
    "legal hold": "法律冻结",
    "do not contact": "拒绝联系",
    "minor": "未成年",
    "recent complaint": "近期投诉",
    "no consenting channel": "无授权渠道",
    # unscheduled reasons
    "no open channel the customer consented to": "无客户授权的可用渠道",
    "no channel worth its cost": "无划算的渠道",
    "contact policy: contacted too recently": "联系规则：近期已联系",
    "released in a wave after the horizon": "排在计划期之后的波次",
    "no capacity left": "产能已满",
    # segment name words (reactivate.dormancy.features.CATALOGUE) and the built-in carve-outs
    "High balance": "高余额",
    "Small balance": "低余额",
    "Long dormant": "长期沉睡",
    "Recently lapsed": "新近沉睡",
    "Older": "年长",
    "Young": "年轻",
    "Long-standing": "老客户",
    "New": "新客户",
    "Multi-product": "多产品",
    "Single-product": "单一产品",
    "Digital-reachable": "可数字触达",
    "No digital channel": "无数字渠道",
    "Phone-reachable": "可电话联系",
    "No phone consent": "无电话授权",
    "Once frequent user": "曾经常交易",
    "Rarely transacted": "很少交易",
    "Large tickets": "大额交易",
    "Small tickets": "小额交易",
    "Used digital": "惯用线上",
    "Used branch/ATM": "惯用网点/ATM",
    "Deposit maturing": "存款将到期",
    "No maturity": "无到期",
    "Recently contacted": "近期联系过",
    "Not contacted in 12 months": "12个月未联系",
    "Has an RM": "有理财经理",
    "No RM": "无理财经理",
    "Typical dormant": "一般沉睡客户",
    "All dormant": "全部沉睡客户",
    "Hardship · care first": "困难客户 · 关怀优先",
    "Hardship": "困难客户",
    "care first": "关怀优先",
    "Near the regulatory deadline": "临近监管期限",
    # service shortfalls (reactivate.scoring.rank.segment_table)
    "no contact in 12 months": "12个月未联系",
    "no digital channel": "无数字渠道",
    "no relationship manager": "无理财经理",
    "deposit matures in the horizon": "计划期内存款到期",
    "term deposit matured and not rolled over": "定期存款到期未续存",
    "near the regulatory dormancy date": "临近监管沉睡期限",
    # products (reactivate.schema.PRODUCTS), as the RM lists name the products a customer holds
    "savings": "储蓄",
    "current": "活期",
    "term_deposit": "定期存款",
    "wealth": "理财",
    "fund": "基金",
    "insurance": "保险",
    "card": "银行卡",
    "loan": "贷款",
    "mortgage": "房贷",
    "other": "其他",
    # uplift dimensions
    "segment": "客群",
    "channel": "渠道",
    "wave": "波次",
    "overall": "总体",
    "none stands out": "无明显不足",
    "no dated event": "无特定日期事件",
    "all": "全部",
}

# uplift dimensions and the like, in English, when they are shown as words
PHRASES_EN: dict[str, str] = {"at_risk": "at risk", "long_dormant": "long dormant", "app": "app push",
                              "branch": "branch invitation"}


# the model features (reactivate.dormancy.features.CATALOGUE) as a report names them
FEATURES: dict[str, tuple[str, str]] = {
    "balance": ("balance", "余额"),
    "days_dormant": ("days dormant", "沉睡天数"),
    "age": ("age", "年龄"),
    "tenure_years": ("years with the bank", "开户年限"),
    "n_products": ("products held", "持有产品数"),
    "digital_reach": ("digital reach", "数字渠道可达"),
    "phone_reach": ("phone reach", "电话可达"),
    "txn_per_year": ("transactions per year", "年均交易笔数"),
    "txn_amount": ("transaction size", "交易金额"),
    "digital_share": ("digital share of transactions", "线上交易占比"),
    "maturing_soon": ("deposit maturing", "存款将到期"),
    "contacts_12m": ("contacts in 12 months", "12个月联系次数"),
    "has_rm": ("has an RM", "有理财经理"),
}


def feature(name: str, lang: str = "en") -> str:
    """A model feature's readable name in ``lang`` (the name itself when unknown)."""
    pair = FEATURES.get(name)
    return name if pair is None else pair[LANGS.index(lang)]


def check_lang(lang: str) -> str:
    """``lang`` if it is supported, else a :class:`~reactivate.errors.ConfigError`."""
    if lang not in LANGS:

        raise ConfigError(f"--lang={lang!r} is not supported; use one of: {', '.join(LANGS)}")
    return lang


def t(key: str, lang: str = "en", **kw) -> str:
    """The text of ``key`` in ``lang``, formatted with ``kw``."""
    text = STRINGS[lang].get(key)
    if text is None:
        text = STRINGS["en"][key]
    return text.format(**kw) if kw else text


_PARTS = re.compile(r"( · |; |, )")
_SUFFIX = re.compile(r"^(.*?)( \(\d+\)| \(\d+%\))$")


def phrase(text: str, lang: str = "en") -> str:
    """A word or phrase reactivate generated, in ``lang``.

    Compound names (``"High balance · Older (2)"``, ``"no digital channel (83%)"``)
    are translated part by part; parts without a translation are kept as written.
    """
    text = "" if text is None else str(text)
    table = PHRASES_ZH if lang == "zh" else PHRASES_EN
    if text in table:
        return table[text]
    if lang != "zh":
        return text
    out = []
    for part in _PARTS.split(text):
        if part in (" · ", "; ", ", "):
            out.append({" · ": " · ", "; ": "；", ", ": "，"}[part])
            continue
        m = _SUFFIX.match(part)
        core, suffix = (m.group(1), m.group(2).replace(" ", "")) if m else (part, "")
        out.append(table.get(core, core) + suffix)
    return "".join(out)


def wave_name(wave: int, lang: str = "en") -> str:
    if wave in (0, 1):
        return t(f"wave_{wave}", lang)
    return t("wave_n", lang, n=wave)
