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
