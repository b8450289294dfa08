"""Output writing: deterministic CSV, one file per group, all-or-nothing replacement."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from reactivate.outputs.files import Staging, csv_bytes
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
