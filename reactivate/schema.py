"""The data contract: the tables reactivate reads, their columns and types.

This module is the single source of truth for ``docs/data.md``; the loader
(:mod:`reactivate.data.io`) and the validator (:mod:`reactivate.data.validate`) are
driven by it, and the demo generator writes exactly these columns.

Kinds: ``id`` (text key), ``str`` (text), ``date`` (calendar day),
``datetime`` (timestamp), ``float`` (number), ``bool`` (true/false, 1/0,
yes/no, y/n, t/f; empty means unknown), ``enum`` (one of a fixed set).
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Contact channels, in the order they are shown everywhere.
CHANNELS: tuple[str, ...] = ("phone", "sms", "wechat", "email", "app", "branch", "mail")

#: Channels where a person speaks to the customer (care-first channels).
HUMAN_CHANNELS: tuple[str, ...] = ("phone", "branch")

PRODUCTS: tuple[str, ...] = (
    "savings",
    "current",
    "term_deposit",
    "wealth",
    "fund",
    "insurance",
    "card",
    "loan",
    "mortgage",
    "other",
)
#: Deposit products: a negative balance on these is an input error.
DEPOSIT_PRODUCTS: tuple[str, ...] = ("savings", "term_deposit", "wealth", "fund")
#: Products with a maturity date.
TERM_PRODUCTS: tuple[str, ...] = ("term_deposit", "wealth")

TXN_CHANNELS: tuple[str, ...] = (
    "branch",
    "atm",
    "online",
    "mobile",
    "phone",
    "pos",
    "wechat",
    "auto",
    "other",
)
INITIATORS: tuple[str, ...] = ("customer", "bank")

OUTCOMES: tuple[str, ...] = (
    "no_answer",
    "declined",
    "responded",
    "reactivated",
    "complaint",
    "opted_out",
)


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    required: bool = False
    doc: str = ""
    values: tuple[str, ...] = ()
    #: for optional columns: what is assumed when the column is absent
    default_doc: str = ""
    #: False for columns the contract accepts but the pipeline does not read yet
    used: bool = True
    #: an id with about as many values as rows (customers, accounts): encoded differently
    many: bool = False
    #: False for a key that is only checked (unique, present), never looked at row by row
    values_used: bool = True


@dataclass(frozen=True)
class Table:
    name: str
    doc: str
    columns: tuple[Column, ...]
    #: columns that together identify a row (duplicates are an error)
    key: tuple[str, ...] = field(default=())

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)


def _channel_columns() -> tuple[Column, ...]:
    cols: list[Column] = []
    for ch in CHANNELS:
        cols.append(
            Column(
                f"has_{ch}",
                "bool",
                doc=f"the bank can reach the customer by {ch} (a number, an address, an app login...)",
                default_doc="assumed reachable when the column is absent",
            )
        )
    for ch in CHANNELS:
        cols.append(
            Column(
                f"consent_{ch}",
                "bool",
                doc=f"the customer consented to marketing contact by {ch}",
                default_doc=(
                    "no consent when the column is absent, unless the campaign spec lists "
                    "the channel in consent.assume_when_missing"
                ),
            )
        )
    return tuple(cols)


ACCOUNTS = Table(
    name="accounts",
    doc=(
        "One row per account. A customer may hold several; dormancy and every "
        "customer-level flag are judged per customer over all of their accounts."
    ),
    key=("account_id",),
    columns=(
        Column("customer_id", "id", required=True, doc="the customer's key", many=True),
        Column("account_id", "id", required=True, doc="the account's key, unique in the file", many=True,
               values_used=False),
        Column("product", "enum", required=True, values=PRODUCTS, doc="product type"),
        Column("open_date", "date", required=True, doc="day the account was opened"),
        Column(
            "last_activity_date",
            "date",
            required=True,
            doc=(
                "last customer-initiated activity on the account (interest credits and fees "
                "do not count); empty = never used"
            ),
        ),
        Column("balance", "float", required=True, doc="current balance in the book's currency"),
        Column("maturity_date", "date", doc="maturity of term products", default_doc="no maturity events"),
        Column("rm_id", "id", doc="the customer's relationship manager", default_doc="every customer goes to the RM pool"),
        Column("branch_id", "id", doc="home branch", default_doc="unknown branch"),
        Column("birth_date", "date", doc="customer's birth date", default_doc="no age features, no birthday events, minors cannot be detected"),
        *_channel_columns(),
        Column("do_not_contact", "bool", doc="customer must not be contacted for marketing at all", default_doc="false"),
        Column("dnc_reason", "str", doc="why do_not_contact is set (free text, kept out of logs)"),
        Column("hardship", "bool", doc="customer is known to be in financial or personal hardship", default_doc="false"),
        Column("deceased", "bool", doc="customer is deceased", default_doc="false"),
        Column("legal_hold", "bool", doc="account is under legal hold", default_doc="false"),
    ),
)

TRANSACTIONS = Table(
    name="transactions",
    doc=(
        "Optional. One row per transaction. When given, activity and the activity "
        "features come from it; when accounts are absent, the customer list comes "
        "from it (a plain transaction log is enough to run)."
    ),
    columns=(
        Column("customer_id", "id", required=True, doc="the customer's key", many=True),
        Column("timestamp", "datetime", required=True, doc="when the transaction happened"),
        Column("amount", "float", doc="signed amount (credit positive)", default_doc="no monetary features"),
        Column("channel", "enum", values=TXN_CHANNELS, doc="where it was made", default_doc="'other'"),
        Column(
            "initiated_by",
            "enum",
            values=INITIATORS,
            doc="who initiated it; only 'customer' counts as activity",
            default_doc="every row counts as customer-initiated (reported)",
        ),
        Column("account_id", "id", doc="the account, when known (accepted; not read yet)", used=False),
    ),
)

CONTACTS = Table(
    name="contacts",
    doc=(
        "Optional. One row per past contact with a customer, across campaigns. Used for "
        "contact caps, suppression after complaints and opt-outs, and to learn response rates."
    ),
    columns=(
        Column("customer_id", "id", required=True, doc="the customer's key", many=True),
        Column("date", "date", required=True, doc="day of the contact"),
        Column("channel", "enum", required=True, values=CHANNELS, doc="contact channel"),
        Column("campaign", "str", doc="campaign id", default_doc="unknown"),
        Column("outcome", "enum", values=OUTCOMES, doc="what happened", default_doc="unknown (no learning from outcomes)"),
    ),
)

TABLES: dict[str, Table] = {t.name: t for t in (ACCOUNTS, TRANSACTIONS, CONTACTS)}

#: the ground truth written by the demo generator (not part of the contract)
TRUTH_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "persona",
    "activity_state",
    "true_p_reactivate",
    "best_channel",
)


_KIND_DOC = {
    "id": "text key",
    "str": "text",
    "date": "date",
    "datetime": "timestamp",
    "float": "number",
    "bool": "true/false",
    "enum": "one of",
}


def contract_markdown() -> str:
    """The contract as Markdown tables (the generated part of docs/data.md)."""
    out: list[str] = []
    for t in TABLES.values():
        out.append(f"### {t.name}\n\n{t.doc}\n")
        out.append("| column | type | required | meaning | when absent |")
        out.append("|---|---|---|---|---|")
        for c in t.columns:
            kind = _KIND_DOC[c.kind] + (": " + ", ".join(f"`{v}`" for v in c.values) if c.values else "")
            req = "**yes**" if c.required else "no"
            out.append(f"| `{c.name}` | {kind} | {req} | {c.doc} | {c.default_doc} |")
        out.append("")
    return "\n".join(out)
