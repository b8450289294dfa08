"""The layout's rules hold in the code: layers, no cycles, no private names across modules, short functions.

The rules and the layer order live in ``tools/architecture.py`` (which also writes the generated part of
``docs/architecture.md``); these tests fail on any violation and name the file and line.
"""

from __future__ import annotations

import importlib.util
import sys

import pytest

from tests.conftest import ROOT

spec = importlib.util.spec_from_file_location("architecture", ROOT / "tools" / "architecture.py")
arch = importlib.util.module_from_spec(spec)
sys.modules["architecture"] = arch
spec.loader.exec_module(arch)


def test_every_module_is_in_a_layer():
    for mod in arch.modules():
        arch.layer_of(mod)  # raises for a module outside LAYERS


def test_the_layout_breaks_no_rule():
    problems = arch.violations()
    assert not problems, "\n".join(problems)


def test_the_architecture_page_is_generated_from_the_code():
    assert arch.updated_doc() == arch.DOC.read_text(), "run: python tools/architecture.py"


def _fake_package(tmp_path, files: dict[str, str]):
    for rel, text in files.items():
        p = tmp_path / "reactivate" / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return tmp_path


@pytest.mark.parametrize(("files", "expected"), [
    ({"config/__init__.py": "", "config/a.py": "from reactivate.planning.b import f\n",
      "planning/__init__.py": "", "planning/b.py": "def f():\n    pass\n"},
     "config imports reactivate.planning.b from the planning layer above it"),
    ({"scoring/__init__.py": "", "scoring/a.py": "from reactivate.scoring.b import _hidden\n",
      "scoring/b.py": "def _hidden():\n    pass\n"},
     "imports private _hidden from reactivate.scoring.b"),
    ({"scoring/__init__.py": "", "scoring/a.py": "import matplotlib\n"},
     "imports matplotlib, which only reactivate.outputs may import"),
    ({"scoring/__init__.py": "", "scoring/a.py": "import reactivate.scoring.b\n",
      "scoring/b.py": "import reactivate.scoring.a\n"},
     "import cycle: reactivate.scoring.a -> reactivate.scoring.b"),
    ({"scoring/__init__.py": "", "scoring/a.py": "def f():\n    from reactivate.errors import ConfigError\n"},
     "imports reactivate.errors inside a function"),
    ({"scoring/__init__.py": "", "scoring/a.py": "def f():\n" + "    x = 1\n" * 80},
     "f is 81 lines (at most 80)"),
])
def test_each_rule_catches_its_violation(tmp_path, monkeypatch, files, expected):
    root = _fake_package(tmp_path, {"__init__.py": "", "errors.py": "", **files})
    monkeypatch.setattr(arch, "ROOT", root)
    monkeypatch.setattr(arch, "PACKAGE", root / "reactivate")
    problems = arch.violations()
    assert any(expected in p for p in problems), problems


def test_every_module_path_and_dotted_name_in_the_docs_exists():
    """README and docs/ name files (reactivate/scoring/propensity.py) and names (reactivate.loop.record.merge_history):
    each must exist, so that a move cannot leave the docs pointing nowhere."""
    import importlib
    import re

    missing = []
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = doc.read_text()
        for path in set(re.findall(r"\breactivate/[\w/]+\.(?:py|toml)\b", text)):
            if not (ROOT / path).exists():
                missing.append(f"{doc.name}: {path}")
        for dotted in set(re.findall(r"\breactivate(?:\.\w+)+", text)) - {"reactivate.__main__"}:
            parts = dotted.split(".")
            for cut in range(len(parts), 0, -1):
                try:
                    obj = importlib.import_module(".".join(parts[:cut]))
                except ImportError:
                    continue
                try:
                    for attr in parts[cut:]:
                        obj = getattr(obj, attr)
                except AttributeError:
                    missing.append(f"{doc.name}: {dotted}")
                break
    assert not missing, missing
