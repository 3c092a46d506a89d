"""The paper's figures are typed once, in ``kdlab/paper.py``, each with its section; the lessons, their claims, the
figures and the dashboard import them (a scan of their code finds none of the distinctive numbers retyped)."""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

import pytest

from kdlab import paper

REPO = Path(__file__).resolve().parents[1]
FOLDERS = ("kdlab/lessons", "kdlab/figures", "dashboard")
# Distinctive figures of the paper (a 3.5, 3.4, 4.4 or 20 would also match a figure size or an epoch count): §3's
# errors and rates, Tables 1, 3 and 5 (percent) and Table 4's largest change.
DISTINCTIVE = {
    *paper.MNIST_ERRORS.values(),
    *(paper.OMIT3[k] for k in ("errors", "errors_on_3", "errors_after", "n_3s")),
    paper.ONLY78["error_rate"],
    paper.ONLY78["error_rate_after"],
    abs(paper.ONLY78["shift"]),
    *paper.TABLE1["test frame accuracy (%)"],
    *paper.TABLE1["WER (%)"],
    *paper.TABLE3["test accuracy (%)"],
    *paper.TABLE3["conditional test accuracy (%)"],
    paper.N_SPECIALISTS,
    *paper.TABLE5["train frame accuracy (%)"],
    *paper.TABLE5["test frame accuracy (%)"],
    max(paper.TABLE4["relative_accuracy_change"]),
}


def _pattern(values) -> re.Pattern:
    texts = sorted({f"{v:.1f}" if isinstance(v, float) else str(v) for v in values}, key=len, reverse=True)
    return re.compile(r"(?<![\w.])(" + "|".join(re.escape(t) for t in texts) + r")(?![\w.]*\d)")


def _docstring_lines(source: str) -> set[int]:
    lines = set()
    for node in ast.walk(ast.parse(source)):
        body = getattr(node, "body", None)
        if (
            isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
        ):
            if isinstance(body[0].value.value, str):
                lines |= set(range(body[0].lineno, body[0].end_lineno + 1))
    return lines


def retyped(source: str, values=DISTINCTIVE) -> list[str]:
    """Numbers and string pieces of code (not comments, not docstrings) that spell one of the paper's figures."""
    pattern, docs, hits = _pattern(values), _docstring_lines(source), []
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type in (tokenize.NUMBER, tokenize.STRING) and tok.start[0] not in docs:
            text = tok.string if tok.type == tokenize.STRING else str(ast.literal_eval(tok.string))
            hits += [f"line {tok.start[0]}: {m.group(0)} in {tok.string[:60]}" for m in pattern.finditer(text)]
        elif tok.type == getattr(tokenize, "FSTRING_MIDDLE", None) and tok.start[0] not in docs:
            hits += [f"line {tok.start[0]}: {m.group(0)} in {tok.string[:60]}" for m in pattern.finditer(tok.string)]
    return hits


@pytest.mark.parametrize(
    "path", [p for f in FOLDERS for p in sorted((REPO / f).rglob("*.py"))], ids=lambda p: str(p.relative_to(REPO))
)
def test_no_paper_figure_is_retyped(path):
    hits = retyped(path.read_text())
    assert not hits, (
        f"{path.relative_to(REPO)} types the paper's figures (import them from kdlab.paper):\n" + "\n".join(hits)
    )


def test_the_scan_can_fail():
    assert retyped('PAPER = {"teacher": 67, "baseline": 146}\n')
    assert retyped('label = "paper: 47.3 % → 13.2 %"\n')
    assert not retyped('"""The paper: 67 errors."""\nfigsize = (6, 3.5)  # 67 in a comment\nx = 670\n')


def test_every_figure_has_its_section():
    figures = [n for n in vars(paper) if n.isupper() and n not in ("SECTION", "ARXIV")]
    assert sorted(figures) == sorted(paper.SECTION), "every figure of kdlab/paper.py needs its section in SECTION"
    assert all(s.startswith("§") for s in paper.SECTION.values())


def test_derived_views_agree_with_the_tables():
    assert paper.table1_by_system()["distilled"] == (60.8, 10.7)
    assert list(paper.table5_by_system()) == [s.lower() for s in paper.TABLE5["system"]]
    assert paper.gain_kept() == pytest.approx(0.8636, abs=1e-4)
