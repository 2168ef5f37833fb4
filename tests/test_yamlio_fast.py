"""libyaml composes the nodes (fast); PyYAML's own composer stays the careful path. Same documents."""

from __future__ import annotations

from pathlib import Path

import pytest

from escalator.language import yamlio

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = 'a: "éé€"\nb: ["ñ", {c: 1, d: "ü"}, x]\nc:\n  - é: 2.50\n    f: "😀"  # c\n    g: |\n      two\n      lines\n'


def _careful(text: str, monkeypatch: pytest.MonkeyPatch) -> yamlio.Document:
    with monkeypatch.context() as patch:
        patch.setattr(yamlio, "_compose_fast", lambda text: None)
        return yamlio.parse_yaml(text)


@pytest.mark.skipif(yamlio._CLoader is None, reason="PyYAML without libyaml: only the careful path exists")
def test_both_paths_give_the_same_values_and_positions(monkeypatch):
    files = [*sorted((ROOT / "policies").rglob("*.yaml")), *sorted((ROOT / "rules").glob("*.yaml")),
             *sorted((ROOT / "examples").rglob("*.yaml"))]
    assert len(files) > 10
    for text in [SAMPLE, *(f.read_text(encoding="utf-8") for f in files)]:
        assert yamlio._compose_fast(text) is not None
        fast, careful = yamlio.parse_yaml(text), _careful(text, monkeypatch)
        assert (fast.data, fast.positions) == (careful.data, careful.positions)


@pytest.mark.parametrize("text", [
    "a: &x [1, 2]\nb: *x\n",  # an alias: counted and bounded by the careful path
    "a:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 70)) + "  " * 70 + "v: 1\n",  # too deep
    "a: [1, 2\n",  # an error: worded by the careful path
    "",  # empty
])
def test_aliases_deep_nesting_errors_and_empty_files_take_the_careful_path(text):
    assert yamlio._compose_fast(text) is None
