"""Message themes and the opener lines an RM can use, in English and Chinese.

Care comes before the sale: the care theme carries no product pitch, and every
opener starts by asking after the customer.
"""

from __future__ import annotations

THEMES: dict[str, dict[str, str]] = {
    "care_checkin": {
        "en": "Hello, this is {rm} from the bank. I'm calling to see how you and your family are doing, "
        "and whether there is anything we can help with.",
        "zh": "您好，我是银行的{rm}。想问候一下您和家人近来可好，看看有没有我们能帮上忙的地方。",
    },
    "dormancy_notice": {
        "en": "Hello, a quick, friendly call: your account has been quiet for a while and will soon be "
        "marked inactive. One small transaction keeps it open; may I walk you through it?",
        "zh": "您好，温馨提示：您的账户已有一段时间未使用，即将被列为不动户。一笔小额交易即可保持账户正常，我来为您说明一下好吗？",
    },
    "maturity_reminder": {
        "en": "Hello, I hope you are well. Your deposit matures soon; I'd be glad to go over your "
        "options so the money keeps working for you.",
        "zh": "您好，近来可好？您的存款即将到期，我想和您聊聊几种安排，让资金继续为您服务。",
    },
    "birthday_greeting": {
        "en": "Hello, warm wishes for your birthday from all of us at the bank!",
        "zh": "您好，银行全体同仁祝您生日快乐，万事顺意！",
    },
    "festival_greeting": {
        "en": "Hello, season's greetings from the bank. We wish you and your family a happy {festival}.",
        "zh": "您好，值此{festival}之际，银行祝您和家人节日快乐、平安健康。",
    },
    "savings_security": {
        "en": "Hello, many customers ask us these days how to keep their savings safe and steady; "
        "may I share a few simple options?",
        "zh": "您好，最近不少客户关心储蓄的安全与稳健，我想和您分享几种简单的安排。",
    },
    "welcome_back": {
        "en": "Hello, we haven't seen you in a while and wanted to check in. Is there anything about "
        "your accounts we could make easier for you?",
        "zh": "您好，好久没见到您了，特地来问候一下。您的账户使用上有什么我们可以为您做得更方便的吗？",
    },
}

#: the theme's name as shown in the RM lists
THEME_NAMES: dict[str, dict[str, str]] = {
    "care_checkin": {"en": "Care check-in", "zh": "关怀问候"},
    "dormancy_notice": {"en": "Dormancy notice", "zh": "不动户提醒"},
    "maturity_reminder": {"en": "Maturity reminder", "zh": "到期提醒"},
    "birthday_greeting": {"en": "Birthday greeting", "zh": "生日祝福"},
    "festival_greeting": {"en": "Festival greeting", "zh": "节日问候"},
    "savings_security": {"en": "Savings security", "zh": "储蓄安心"},
    "welcome_back": {"en": "Welcome back", "zh": "欢迎回来"},
}

LANGS = ("en", "zh")
#: what fills the opener's placeholders in the lists ({rm}: the RM says their own name)
_FILL = {"en": {"rm": "[your name]", "festival": "festival"}, "zh": {"rm": "[您的姓名]", "festival": "节日"}}


def theme_text(extra: dict[str, dict[str, str]] | None = None) -> dict[str, dict[str, str]]:
    """Every theme's opener per language: the built-in ones and a campaign's own (``themes.text``)."""
    out = {k: dict(v) for k, v in THEMES.items()}
    for name, text in (extra or {}).items():
        out[name] = {"en": text.get("en", ""), "zh": text.get("zh", text.get("en", ""))}
    return out


def theme_name(theme: str, lang: str = "en") -> str:
    """The display name of a theme (a campaign's own themes show their key)."""
    return THEME_NAMES.get(theme, {}).get(lang, theme.replace("_", " ").capitalize())


def opener(theme: str, lang: str = "en", festival: str = "", extra: dict[str, dict[str, str]] | None = None) -> str:
    """The opener line of a theme in ``lang`` ("en" or "zh"), placeholders filled for the RM."""
    if lang not in LANGS:
        raise ValueError(f"lang={lang!r} should be one of {', '.join(LANGS)}")
    text = theme_text(extra).get(theme, {}).get(lang, "")
    fill = dict(_FILL[lang])
    if festival:
        fill["festival"] = festival
    return text.replace("{rm}", fill["rm"]).replace("{festival}", fill["festival"])
