"""The bytes of the RM workbooks (xlsx): :func:`workbook_batch` renders rows into a template workbook.

What the workbooks say and in which order is decided by :mod:`reactivate.outputs.workbooks`; this module
only writes the files, and imports nothing but the standard library (and XlsxWriter when it makes a
template; :mod:`reactivate.outputs.workers` to stage a file), so that the processes of a pool that share
the work start in a moment.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass

from reactivate.outputs.workers import put

#: the words of the summary sheet, the header comments and the validation prompts
WORDS = {
    "en": {
        "summary": "Summary", "title": "{rm} · week of {week}",
        "list": "This week's list: sheet {sheet}, in the order to work through it",
        "phone": "calls", "branch": "branch invitations",
        "messages": "messages to your clients (SMS, WeChat, app, e-mail, mail)", "total": "total",
        "fill": "Fill in Contacted on, Result and Next step / note on sheet {sheet}, then hand this file back "
                "as it is.",
        "followups": "Follow-ups (回访) due this week", "none": "none",
        "last": "Last week's results", "not_recorded": "not recorded", "no_result": "no result recorded",
        "c_date": "Contacted on: the day you reached (or tried to reach) the customer, from {a} to {b}.",
        "c_result": "Result: choose from the list ({labels}).",
        "c_note": "Next step / note: free text, up to {n} characters. Only these three columns can be edited.",
        "p_date": ("Contacted on", "A date from {a} to {b} (yyyy-mm-dd)."),
        "p_result": ("Result", "Choose one from the list."),
        "p_note": ("Next step / note", "Up to {n} characters."),
        "e_date": "Enter a date from {a} to {b} (yyyy-mm-dd).",
        "e_result": "Choose one of the results in the list.",
        "e_note": "At most {n} characters.",
    },
    "zh": {
        "summary": "概览", "title": "{rm} · {week} 当周",
        "list": "本周名单：工作表 {sheet}，请按顺序逐一联系",
        "phone": "电话", "branch": "网点邀约", "messages": "发给客户的消息（短信、微信、App、邮件、信函）",
        "total": "合计",
        "fill": "请在工作表 {sheet} 中填写“联系日期”“结果”和“下一步 / 备注”，然后原样交回本文件。",
        "followups": "本周到期的回访", "none": "无",
        "last": "上周结果", "not_recorded": "未记录", "no_result": "未填结果",
        "c_date": "联系日期：您联系（或尝试联系）客户的日期，须在 {a} 至 {b} 之间。",
        "c_result": "结果：从下拉列表中选择（{labels}）。",
        "c_note": "下一步 / 备注：自由填写，最多 {n} 个字。只有这三列可以编辑。",
        "p_date": ("联系日期", "{a} 至 {b} 之间的日期（yyyy-mm-dd）。"),
        "p_result": ("结果", "请从列表中选择。"),
        "p_note": ("下一步 / 备注", "最多 {n} 个字。"),
        "e_date": "请输入 {a} 至 {b} 之间的日期（yyyy-mm-dd）。",
        "e_result": "请选择列表中的一项结果。",
        "e_note": "最多 {n} 个字。",
    },
}
#: what a protected list sheet still allows
PROTECT = {"select_locked_cells": True, "select_unlocked_cells": True, "format_columns": True}



@dataclass(frozen=True)
class Layout:
    """What every workbook of a run shares: the list sheet's header and widths, the position of its first
    outcome column (contacted on; result, note and the hidden step follow), the language, the
    creation date, the result labels (the drop-down's), the longest note and the name of the hidden sheet
    (:mod:`reactivate.outputs.lists`: this module imports nothing heavy, for the pool's workers)."""

    header: tuple[str, ...]
    widths: tuple[float, ...]
    outcome: int
    lang: str
    created: dt.datetime
    labels: tuple[str, ...]
    note_chars: int
    meta_sheet: str


def workbook_batch_list(books, layout) -> list[tuple[str, bytes]]:
    """:func:`workbook_batch` as a list."""
    return list(workbook_batch(books, layout))


def workbook_batch_to(books, layout, root: str, out: str) -> int:
    """:func:`workbook_batch` written into the staging folder ``root`` (what a pool's worker does: the
    bytes never travel back; ``out``, the outputs folder, names a file in an error). Returns how many."""
    for path, data in workbook_batch(books, layout):  # one per workbook
        put(root, path, data, out)
    return len(books)


def workbook_batch(books, layout: Layout):
    """(path, bytes) of each workbook of ``books``, written here one after the other.

    Each has the summary sheet, the list sheet (named by the book, its bold header frozen, protected but
    for the outcome cells) and the very hidden ``_meta`` sheet, with ``layout.created`` as its creation
    date; no cell is read as a formula, number or URL.

    XlsxWriter writes, once per week, a template workbook with every part but the cells (styles, column
    widths, comments, validations, protection, the sheets' names and states); each workbook is that
    template with its cells rendered into the three sheets (text as inline strings, escaped as XlsxWriter
    escapes them). A workbook's fixed parts cost XlsxWriter more than its few rows: this is what keeps
    thousands of workbooks fast.
    """
    templates: dict[str, _Template] = {}
    cache: dict[str, str] = {}  # the XML of each distinct text of the batch
    for path, sheet, rows, steps, summary, meta in books:  # one iteration per workbook
        tpl = templates.get(sheet) or templates.setdefault(sheet, _template(layout, sheet))
        strings = _Strings(cache)
        sheets = ((_summary_xml(summary, tpl, strings), len(summary), 2),
                  (_list_xml(rows, steps, layout, tpl, strings), len(rows) + 1, len(layout.header)),
                  (_rows_xml([((a, None), (b, None)) for a, b in meta], strings), len(meta), 2))
        yield path, _zip(tpl, sheets, strings)


@dataclass(frozen=True)
class _Template:
    """The parts of a template workbook (name → bytes, in order); the three sheets as the XML before and
    after their cells, with the dimension element to replace; the style ids of bold text, an outcome date
    and an outcome text."""

    parts: tuple[tuple[str, bytes], ...]
    #: the parts every workbook of the week shares, deflated once (:func:`_deflate`)
    packed: dict[str, tuple[bytes, int, int]]
    sheets: tuple[tuple[str, str, str, str], ...]
    #: the shared strings part's XML before its counts
    sst: str
    bold: int
    day: int
    free: int


#: the three sheets of a workbook, in the template's parts
SHEET_PARTS = ("xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml", "xl/worksheets/sheet3.xml")
#: the workbook's shared strings
STRINGS_PART = "xl/sharedStrings.xml"
#: Excel's last row (validations cover the outcome columns down to it; only the list's cells are unlocked)
LAST_ROW = 1_048_575


def _template(layout: Layout, sheet: str) -> _Template:
    """The template of the workbooks of week ``sheet`` (see :func:`workbook_batch`)."""
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    wb.set_properties({"created": layout.created})
    bold = wb.add_format({"bold": True})
    first = wb.add_worksheet(WORDS[layout.lang]["summary"])
    first.set_column(0, 0, 60)
    first.set_column(1, 1, 24)
    first.write_blank(0, 0, None, bold)
    ws = wb.add_worksheet(sheet)
    day, free = _list_template(wb, ws, layout, dt.date.fromisoformat(sheet), bold)
    hidden = wb.add_worksheet(layout.meta_sheet)
    hidden.write_string(0, 0, "-", bold)  # a string: the template has the shared strings part
    hidden.very_hidden()
    wb.close()
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as z:
        parts = tuple((name, z.read(name)) for name in z.namelist())
    sheets = []
    for name in SHEET_PARTS:  # three
        xml = dict(parts)[name].decode("utf-8")
        head, rest = xml.split("<sheetData>", 1)
        dim = re.search(r"<dimension ref=\"[^\"]*\"/>", head).group(0)
        sheets.append((name, head + "<sheetData>", "</sheetData>" + rest.split("</sheetData>", 1)[1], dim))
    sst = dict(parts)[STRINGS_PART].decode("utf-8").split(' count="', 1)[0]
    own = {*SHEET_PARTS, STRINGS_PART}
    packed = {name: _deflate(data) for name, data in parts if name not in own}
    return _Template(parts, packed, tuple(sheets), sst, bold.xf_index, day.xf_index, free.xf_index)


def _list_template(wb, ws, layout: Layout, start: dt.date, bold):
    """The list sheet of a template: columns, the comments on the outcome headers, the validations of the
    outcome columns, the frozen header and the protection; returns the formats of the outcome cells."""
    w, c = WORDS[layout.lang], layout.outcome
    day = wb.add_format({"locked": False, "num_format": "yyyy-mm-dd"})
    free = wb.add_format({"locked": False})
    for j, width in enumerate(layout.widths):
        ws.set_column(j, j, width, None, {"hidden": True} if j == c + 3 else None)
    ws.write_blank(0, 0, None, bold)
    ws.write_blank(1, c, None, day)
    ws.write_blank(1, c + 1, None, free)
    a, b, labels = start.isoformat(), (start + dt.timedelta(days=6)).isoformat(), list(layout.labels)
    comments = (w["c_date"].format(a=a, b=b), w["c_result"].format(labels=", ".join(labels)),
                w["c_note"].format(n=layout.note_chars))
    for j, text in enumerate(comments):
        ws.write_comment(0, c + j, text, {"x_scale": 2.5, "y_scale": 1.5})
    ws.data_validation(1, c, LAST_ROW, c, {
        "validate": "date", "criteria": "between", "minimum": start, "maximum": start + dt.timedelta(days=6),
        "input_title": w["p_date"][0], "input_message": w["p_date"][1].format(a=a, b=b),
        "error_message": w["e_date"].format(a=a, b=b)})
    ws.data_validation(1, c + 1, LAST_ROW, c + 1, {"validate": "list", "source": labels, "input_title": w["p_result"][0],
                                                   "input_message": w["p_result"][1], "error_message": w["e_result"]})
    ws.data_validation(1, c + 2, LAST_ROW, c + 2, {
        "validate": "length", "criteria": "<=", "value": layout.note_chars, "input_title": w["p_note"][0],
        "input_message": w["p_note"][1].format(n=layout.note_chars), "error_message": w["e_note"].format(n=layout.note_chars)})
    ws.freeze_panes(1, 0)
    ws.protect("", PROTECT)
    return day, free


class _Strings:
    """The shared strings of one workbook: each distinct text once, in the order first used."""

    def __init__(self, cache: dict[str, str]):
        self.cache = cache  # text -> its escaped XML, shared by the workbooks of a batch
        self.index: dict[str, int] = {}
        self.count = 0

    def ref(self, text: str) -> int:
        """The index of ``text`` in the table (added when new)."""
        self.count += 1
        i = self.index.get(text)
        if i is None:
            i = self.index[text] = len(self.index)
        return i

    def xml(self, head: str) -> str:
        """The shared strings part, after ``head`` (its XML declaration and ``<sst`` element's namespace)."""
        cache = self.cache
        items = []
        for text in self.index:  # one per distinct text of the workbook
            x = cache.get(text)
            if x is None:
                x = cache[text] = _si(text)
            items.append(x)
        return f'{head} count="{self.count}" uniqueCount="{len(self.index)}">{"".join(items)}</sst>'


def _summary_xml(summary: list[tuple], tpl: _Template, strings: _Strings) -> str:
    """The cells of the summary sheet: rows of (text, value, bold)."""
    return _rows_xml([((a, tpl.bold if strong else None), (b, tpl.bold if strong else None))
                      for a, b, strong in summary], strings)


def _list_xml(rows: list[tuple], steps: list[int], layout: Layout, tpl: _Template, strings: _Strings) -> str:
    """The cells of the list sheet: the bold header, then per row its cells, the outcome cells (unlocked,
    empty) and the step (the cells as :func:`_cell` writes them, inlined: this runs once per cell)."""
    bold = tpl.bold
    lines = [_rows_xml([tuple((h, bold) for h in layout.header)], strings)]
    n = len(layout.header)
    c = layout.outcome
    letters = [_column(j) for j in range(n)]
    day, free = f' s="{tpl.day}"/>', f' s="{tpl.free}"/>'
    index = strings.index
    count = 0
    for k, (row, step) in enumerate(zip(rows, steps, strict=True), start=2):  # the rows of one RM's week
        cells = []
        for col, v in zip(letters, row):  # noqa: B905 - the row's cells up to the outcome columns
            if v is None or v == "":
                continue
            if isinstance(v, str):
                i = index.get(v)
                if i is None:
                    i = index[v] = len(index)
                count += 1
                cells.append(f'<c r="{col}{k}" t="s"><v>{i}</v></c>')
            else:
                cells.append(f'<c r="{col}{k}"><v>{v}</v></c>')
        cells.append(f'<c r="{letters[c]}{k}"{day}<c r="{letters[c + 1]}{k}"{free}<c r="{letters[c + 2]}{k}"{free}'
                     f'<c r="{letters[c + 3]}{k}"><v>{int(step)}</v></c>')
        lines.append(f'<row r="{k}" spans="1:{n}">{"".join(cells)}</row>')
    strings.count += count
    return "".join(lines)


def _rows_xml(rows: list[tuple], strings: _Strings, first: int = 1) -> str:
    """Rows of cells, each a (value, style id or None); a value None or "" without a style is no cell."""
    out = []
    for k, row in enumerate(rows, start=first):  # a few rows (a summary, a header, the meta sheet)
        cells = "".join(_cell(_COLUMNS[j] if j < len(_COLUMNS) else _column(j), k, None if v == "" else v, st, strings)
                        for j, (v, st) in enumerate(row) if (v is not None and v != "") or st is not None)
        out.append(f'<row r="{k}" spans="1:{len(row)}">{cells}</row>' if cells else "")
    return "".join(out)


def _cell(col: str, row: int, value, style: int | None, strings: _Strings) -> str:
    """One cell: text as a shared string, a number, or an empty cell with a style."""
    s = f' s="{style}"' if style is not None else ""
    if value is None:
        return f'<c r="{col}{row}"{s}/>'
    if isinstance(value, str):
        return f'<c r="{col}{row}"{s} t="s"><v>{strings.ref(value)}</v></c>'
    return f'<c r="{col}{row}"{s}><v>{value}</v></c>'


_ESCAPED = re.compile("(_x[0-9a-fA-F]{4}_)")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\ufffe\uffff]")


def _si(text: str) -> str:
    """A text as XlsxWriter writes a shared string: cut to Excel's 32,767 characters, control
    characters as ``_xHHHH_`` (and a literal ``_xHHHH_`` escaped), ``& < >`` escaped, leading or trailing
    space preserved."""
    text = text[:32767]
    if "_x" in text:
        text = _ESCAPED.sub(r"_x005F\1", text)
    text = _CONTROL.sub(lambda m: f"_x{ord(m.group(0)):04X}_", text)
    if "&" in text or "<" in text or ">" in text:
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    keep = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
    return f"<si><t{keep}>{text}</t></si>"


def _column(j: int) -> str:
    """The letters of column ``j`` (0 → A, 26 → AA)."""
    name = ""
    j += 1
    while j:
        j, r = divmod(j - 1, 26)
        name = chr(65 + r) + name
    return name


def _zip(tpl: _Template, sheets: tuple[tuple[str, int, int], ...], strings: _Strings) -> bytes:
    """The workbook: the template's parts, its three sheets with their cells (each the cells' XML, the
    rows and the columns they span) and their shared strings, zipped as XlsxWriter zips (zipfile, deflate
    at the default level, every entry dated 1980-01-01). The parts the week's workbooks share are deflated
    once per template (:attr:`_Template.packed`), the same bytes zipfile would write each time."""
    own = {STRINGS_PART: strings.xml(tpl.sst).encode("utf-8")}
    for (name, head, tail, dim), (xml, n_rows, n_cols) in zip(tpl.sheets, sheets, strict=True):  # three
        ref = f'<dimension ref="A1:{_column(max(n_cols, 1) - 1)}{max(n_rows, 1)}"/>' if xml else '<dimension ref="A1"/>'
        own[name] = (head.replace(dim, ref, 1) + xml + tail).encode("utf-8")
    if sum(map(len, own.values())) > ZIP_SMALL:  # zipfile would need ZIP64 records: let it write them
        return _zipfile(tpl, own)
    return _packed_zip([(name, tpl.packed[name] if name in tpl.packed else _deflate(own[name]))
                        for name, _ in tpl.parts])


def _zipfile(tpl: _Template, own: dict[str, bytes]) -> bytes:
    """:func:`_zip` written by zipfile itself (each part deflated here)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, data in tpl.parts:  # a dozen parts
            info = zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, own.get(name, data))
    return buf.getvalue()


#: below this many bytes of parts a workbook needs no ZIP64 record (zipfile's limit, with its 5% margin)
ZIP_SMALL = (1 << 31) // 2
#: a zip's local file header, central directory header and end of central directory (APPNOTE 4.3.7, 4.3.12,
#: 4.3.16), as zipfile packs them
_LOCAL = struct.Struct("<4s2B4HL2L2H")
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")
_END = struct.Struct("<4s4H2LH")
#: what zipfile writes for an entry of ZipInfo(name, (1980, 1, 1, 0, 0, 0)): versions, system, DOS date, mode
_ENTRY = zipfile.ZipInfo("x", (1980, 1, 1, 0, 0, 0))
_DOS_DATE = 1 << 5 | 1


def _deflate(data: bytes) -> tuple[bytes, int, int]:
    """A part as zipfile deflates it (raw deflate, default level): (deflated bytes, CRC-32, size)."""
    z = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
    return z.compress(data) + z.flush(), zlib.crc32(data), len(data)


def _packed_zip(entries: list[tuple[str, tuple[bytes, int, int]]]) -> bytes:
    """A zip of deflated entries ((name, (deflated, CRC, size)), names ASCII), byte for byte what zipfile
    writes to a seekable file for ``writestr(ZipInfo(name, (1980, 1, 1, 0, 0, 0)), data)`` of each (zipfile
    cannot take data deflated beforehand)."""
    e = _ENTRY
    out, central = [], []
    offset = 0
    for name, (packed, crc, size) in entries:  # a dozen parts
        raw = name.encode("ascii")
        local = _LOCAL.pack(b"PK\x03\x04", e.extract_version, e.reserved, 0, zipfile.ZIP_DEFLATED, 0, _DOS_DATE, crc,
                            len(packed), size, len(raw), 0)
        central.append(_CENTRAL.pack(b"PK\x01\x02", e.create_version, e.create_system, e.extract_version, e.reserved,
                                     0, zipfile.ZIP_DEFLATED, 0, _DOS_DATE, crc, len(packed), size, len(raw), 0, 0,
                                     0, 0, 0o600 << 16, offset) + raw)
        out += (local, raw, packed)
        offset += len(local) + len(raw) + len(packed)
    directory = b"".join(central)
    return b"".join(out) + directory + _END.pack(b"PK\x05\x06", 0, 0, len(central), len(central), len(directory),
                                                   offset, 0)


#: the letters of the first columns (:func:`_column`), looked up once per cell
_COLUMNS = tuple(_column(j) for j in range(64))
