"""Output writing: deterministic CSV, one file per group, all-or-nothing replacement; file names from ids,
spreadsheet-safe cells, outputs folders that would delete an input, leftovers of killed runs."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reactivate.errors import ConfigError, OutputError
from reactivate.outputs.files import (
    NAME_BYTES,
    STAGING_MARKER,
    Staging,
    check_out,
    csv_bytes,
    file_names,
    safe_name,
    sheet_csv_bytes,
    staged,
    stale_staging,
)
from reactivate.outputs.writer import write_grouped_csv


def test_csv_is_plain_unless_a_value_needs_quotes():
    df = pd.DataFrame({"a": ["x", "y"], "d": pd.to_datetime(["2026-01-02", None]), "f": [0.25, 3.0],
                       "c": pd.Categorical(["u", None])})
    assert csv_bytes(df) == b"a,d,f,c\nx,2026-01-02,0.25,u\ny,,3,\n"
    assert csv_bytes({"a": np.array(["p,q", "r"], dtype=object)}) == b'a\n"p,q"\n"r"\n'
    assert csv_bytes({"a": pa.array(["s"])}) == b"a\ns\n"
    assert csv_bytes(pd.DataFrame({"a": []})) == b"a\n"


def test_one_file_per_group_even_with_line_breaks_inside_fields(tmp_path):
    stage = Staging(tmp_path / "out")
    cols = {"k": np.array([0, 0, 1]), "text": np.array(["a", "two\nlines", "b"], dtype=object)}
    n = write_grouped_csv(stage, cols, cols["k"], lambda i: f"g/{cols['k'][i]}.csv")
    stage.commit()
    assert n == 2
    assert (tmp_path / "out" / "g" / "0.csv").read_bytes() == b'k,text\n0,"a"\n0,"two\nlines"\n'
    assert (tmp_path / "out" / "g" / "1.csv").read_bytes() == b'k,text\n1,b\n'


# --------------------------------------------------------------------------- file names from ids


def test_plain_ids_keep_their_names():
    assert [safe_name(r) for r in ("RM0001", "POOL", "wake-weekly", "golden-weekly", "rm_7.b", "客户经理1")] == \
        ["RM0001", "POOL", "wake-weekly", "golden-weekly", "rm_7.b", "客户经理1"]
    assert file_names(["RM0001", "RM0002", "POOL"]) == ["RM0001", "RM0002", "POOL"]


def test_ids_that_shared_a_file_name_get_distinct_ones():
    ids = ["a/b", "a_b", ".", "..", "_", "...", "", "CON", "nul.txt", "a\\b", "a:b", ".hidden"]
    names = file_names(ids)
    assert len(set(names)) == len(ids)
    assert names[1] == "a_b" and names[4] == "_"  # a plain id keeps its name ...
    assert names[0].startswith("a_b~") and names[2].startswith("_~")  # ... the others get a hash
    assert all(n not in (".", "..") and "/" not in n and not n.startswith(".") for n in names)


def test_case_variants_are_distinct_on_a_case_insensitive_file_system():
    nfc, nfd = unicodedata.normalize("NFC", "café"), unicodedata.normalize("NFD", "café")
    names = file_names(["RM1", "rm1", "Rm2", nfc, nfd, "RM3"])
    folded = [unicodedata.normalize("NFC", n).casefold() for n in names]
    assert len(set(folded)) == 6
    assert names[-1] == "RM3"  # an id without a case twin keeps its name


def test_long_ids_give_short_names():
    for rm in ("R" * 300, "客" * 100, "é" * 200):
        name = safe_name(rm)
        assert len((name + ".xlsx").encode()) <= NAME_BYTES + 20 < 255
    assert safe_name("R" * 300) != safe_name("R" * 301)


rm_ids = st.one_of(
    st.text(min_size=0, max_size=12),
    st.text(alphabet="./_-aA", min_size=0, max_size=6),
    st.text(alphabet="客户经理ÉéßSs", min_size=1, max_size=120),
    st.integers(0, 400).map(lambda n: "R" * n),
    st.sampled_from(["RM1", "rm1", "Rm1", "a/b", "a_b", ".", "..", "CON", "con.csv"]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(rm_ids, unique=True, max_size=12))
def test_file_names_are_distinct_valid_and_short(ids):
    names = file_names(ids)
    assert len(set(unicodedata.normalize("NFC", n).casefold() for n in names)) == len(ids)
    for n in names:
        assert n and n not in (".", "..") and not n.startswith(".") and not n.endswith(".")
        assert "/" not in n and "\\" not in n and "\0" not in n
        assert len((n + ".xlsx").encode("utf-8")) <= 255


# --------------------------------------------------------------------------- cells for a spreadsheet

def test_every_text_cell_of_a_spreadsheet_file_is_neutralised():
    cols = {"id": pa.array(["=HYPERLINK(\"http://x\",\"y\")", "+cmd", "-1+1", "@SUM(A1)", "C1", None]),
            "seg": pa.DictionaryArray.from_arrays(pa.array([0, 1, 0, 1, 0, 1]), pa.array(["=a", "b"])),
            "cat": pd.Categorical(["=x", "'=x", "y", None, "y", "y"]),
            "obj": np.array(["\tx", "\rz", "ok", "ok", "ok", None], dtype=object),
            "n": np.array([-1.5, 2, 3, 4, 5, 6])}
    text = sheet_csv_bytes(cols).decode()
    lines = text.splitlines()
    assert lines[0] == "id,seg,cat,obj,n"
    rows = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    assert rows["id"].tolist() == ["'=HYPERLINK(\"http://x\",\"y\")", "'+cmd", "'-1+1", "'@SUM(A1)", "C1", ""]
    assert rows["seg"].tolist() == ["'=a", "b"] * 3
    assert rows["cat"].tolist() == ["'=x", "'=x", "y", "", "y", "y"]
    assert rows["obj"].tolist() == ["'\tx", "'\rz", "ok", "ok", "ok", ""]
    assert rows["n"].tolist()[0] == "-1.5"  # numbers stay numbers
    assert sheet_csv_bytes(pd.DataFrame({"a": ["x"], "b": [1]})) == b"a,b\nx,1\n"


# --------------------------------------------------------------------------- staging: inputs, errors, leftovers

def test_an_output_folder_that_holds_an_input_is_refused(tmp_path):
    out = tmp_path / "out"
    (out / "book").mkdir(parents=True)
    (out / "run.json").write_text("{}")
    acc = out / "book" / "accounts.csv"
    acc.write_text("x\n")
    with pytest.raises(ConfigError, match=r"--out .*out holds the input --accounts .*accounts.csv"):
        check_out(out, {"--accounts": acc})
    with pytest.raises(ConfigError, match="holds the input"):  # through .. and relative
        check_out(tmp_path / "x" / ".." / "out", {"--accounts": out / "book" / ".." / "book" / "accounts.csv"})
    with pytest.raises(ConfigError, match="is the input --accounts"):
        check_out(acc, {"--accounts": acc})
    with pytest.raises(ConfigError, match="lies inside the input --data"):
        check_out(out / "book" / "o", {"--data": out / "book"})
    link = tmp_path / "elsewhere.csv"
    link.symlink_to(acc)
    with pytest.raises(ConfigError, match="holds the input"):  # the link resolves into out
        check_out(out, {"--accounts": link})
    (tmp_path / "book.csv").write_text("x\n")
    (out / "l.csv").symlink_to(tmp_path / "book.csv")
    with pytest.raises(ConfigError, match="holds the input"):  # the link itself would go with out
        check_out(out, {"--accounts": out / "l.csv"})
    check_out(tmp_path / "out2", {"--accounts": acc, "--contacts": None})  # beside: fine
    with pytest.raises(ConfigError):
        with staged(out, {"--accounts": acc}):
            raise AssertionError("never reached")
    assert acc.read_text() == "x\n" and sorted(p.name for p in tmp_path.iterdir()) == ["book.csv", "elsewhere.csv",
                                                                                      "out"]


def test_out_below_a_file_is_a_clean_output_error(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(OutputError, match=r"f: exists and is not a directory"):
        check_out(tmp_path / "f" / "a" / "b")


def test_a_failed_write_is_an_output_error_naming_the_file(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(OutputError, match=r"out/targets/x{300}\.csv: cannot write \(File name too long\)"):
        with staged(out) as stage:
            stage.write("targets/" + "x" * 300 + ".csv", b"a\n")
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_the_staging_marker_never_reaches_the_outputs(tmp_path):
    with staged(tmp_path / "out") as stage:
        assert (stage.tmp / STAGING_MARKER).is_file()
        assert json.loads((stage.tmp / STAGING_MARKER).read_text())["pid"] == os.getpid()
        stage.write("a.csv", b"a\n")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.csv"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def _age(path, seconds=7200):
    t = time.time() - seconds
    os.utime(path, (t, t))


def _wait_gone(paths, timeout=20.0):
    deadline = time.monotonic() + timeout
    while any(p.exists() for p in paths) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not any(p.exists() for p in paths)


def test_a_killed_runs_staging_folder_is_swept_and_a_live_one_is_kept(tmp_path):
    out = tmp_path / "out"
    code = ("import sys, time\nfrom reactivate.outputs.files import Staging\n"
            "s = Staging(sys.argv[1])\ns.write('plan.csv', b'x\\n')\nprint(s.tmp, flush=True)\ntime.sleep(120)\n")
    proc = subprocess.Popen([sys.executable, "-c", code, str(out)], stdout=subprocess.PIPE, text=True)
    killed = Path(proc.stdout.readline().strip())
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    _age(killed / STAGING_MARKER)
    young = Path(subprocess.run([sys.executable, "-c", code.replace("time.sleep(120)", ""), str(out)],
                                capture_output=True, text=True, check=True).stdout.strip())  # ended, marker fresh
    foreign = tmp_path / ".out.tmp-notours"
    foreign.mkdir()
    (foreign / "data.csv").write_text("keep\n")
    _age(foreign)
    empty = tmp_path / ".out.tmp-empty"
    empty.mkdir()
    _age(empty)
    other = Path(subprocess.run([sys.executable, "-c", code.replace("time.sleep(120)", ""), str(tmp_path / "w49")],
                                capture_output=True, text=True, check=True).stdout.strip())
    _age(other / STAGING_MARKER)  # another outputs folder's (an earlier week's), ended long ago
    # a live staging folder of a run in progress, its marker old: held locked, so kept
    with staged(out) as live:
        _age(live.tmp / STAGING_MARKER)
        with staged(out) as stage:
            stage.write("plan.csv", b"new\n")
        assert live.tmp.is_dir() and (live.tmp / STAGING_MARKER).is_file()
        assert not killed.exists() and not other.exists()  # claimed at once (renamed), removed in the background
        assert young.is_dir() and foreign.is_dir() and not empty.exists()
        live.write("plan.csv", b"live\n")
    assert (out / "plan.csv").read_bytes() == b"live\n"
    assert _wait_gone(list(tmp_path.glob(".*.old-*")))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["out", young.name, foreign.name])


def test_stale_staging_only_takes_what_is_old_unlocked_and_ours(tmp_path):
    out = tmp_path / "out"
    folder = tmp_path / ".out.tmp-x"
    folder.mkdir()
    (folder / STAGING_MARKER).write_text('{"tool": "something else"}')
    _age(folder / STAGING_MARKER)
    assert stale_staging(out) == []
    (folder / STAGING_MARKER).write_text('{"tool": "reactivate", "pid": 1}')
    assert stale_staging(out) == []  # just written: within the grace period
    _age(folder / STAGING_MARKER)
    taken = stale_staging(out)
    assert len(taken) == 1 and taken[0].name.startswith(".out.old-") and not folder.exists()
