"""Claims as data: the schema-2 record, its reader (schema 1 and 2, bad files) and the sentences it writes.

The judging rules (three verdicts per lesson) are tested in ``test_claims_rules.py``."""

import json

import numpy as np
import pytest

from kdlab.claim_record import FILE, SCHEMA, Claim, Claims, from_dict, mcnemar_noise, read_claims, tally_text
from kdlab.store.runs import start_run

BASE = dict(section="§3", statement="A beats B.", paper="1 vs 2", result="3 vs 4")


def _claim(cid="03.x", verdict="holds", **kw):
    return Claim(id=cid, **{**BASE, **kw}, verdict=verdict)


def _wrong(n_wrong: int, n: int = 10_000, offset: int = 0) -> np.ndarray:
    w = np.zeros(n, dtype=bool)
    w[offset : offset + n_wrong] = True
    return w


def test_claim_validates_its_fields():
    with pytest.raises(ValueError, match="claim id"):
        _claim("distilled")
    with pytest.raises(TypeError, match="margin"):
        _claim(margin="big")
    with pytest.raises(ValueError, match="verdict"):
        _claim(verdict="mostly")
    c = _claim(margin=np.float32(2), ours=np.float64(83.0), spread=(86, 80), paper_figure=91.1, unit="%")
    assert c.margin == 2.0 and c.ours == 83.0 and c.spread == (80.0, 86.0)
    assert c.paper_figure == {"value": 91.1, "unit": "%"}  # a bare number takes the claim's unit
    assert _claim(margin=float("nan")).margin is None
    claims = Claims("03_mnist_distillation")
    with pytest.raises(ValueError, match="does not belong"):
        claims.add(id="04.x", **BASE, verdict="holds")
    with pytest.raises(TypeError, match="unknown claim field"):
        claims.add(id="03.x", **BASE, verdict="holds", surprise=1)


@pytest.mark.parametrize("verdict, holds", [("holds", True), ("weaker", True), ("does not hold", False)])
def test_holds_is_derived_from_the_verdict(verdict, holds):
    assert _claim(verdict=verdict).holds is holds
    assert _claim(verdict=verdict).line() == f"03.x: {verdict}"


def test_summary_sentences_and_paragraphs_follow_the_verdict():
    claims = Claims("03_mnist_distillation", setting="quick: 5,000 transfer cases")
    claims.add(id="03.good", **BASE, verdict="holds")
    claims.add(
        id="03.short",
        **{**BASE, "result": "83% of the gap"},
        verdict="weaker",
        paper_figure={"value": 91.0, "unit": "% of the gap"},
        ours=83.0,
        unit="% of the gap",
        noise=9.0,
        noise_source="test set (McNemar)",
        judged_by="rule R",
    )
    claims.add(id="03.bad", **BASE, verdict="does not hold", ours=-3.0, noise=5.0, judged_by="C < D")
    assert claims.summary() == "03.good: holds\n03.short: weaker\n03.bad: does not hold"
    assert claims.tally() == "1 hold, 1 weaker, 1 do not hold"
    text = claims.markdown()
    assert text.startswith("- **Holds here.** A beats B.")
    assert "**Weaker here.**" in text and "**Does not hold here.**" in text
    short = claims["03.short"].paragraph("quick: 5,000 transfer cases")
    assert "Ours: 83% of the gap (83 % of the gap; one seed, so no seed range)" in short
    assert "The paper: 91 % of the gap." in short and "falls short of the paper's figure" in short
    assert short.endswith("What differs from the paper's setting: quick: 5,000 transfer cases")
    assert "It does not meet its rule: C < D (noise 5)." in claims["03.bad"].paragraph()
    assert claims["03.good"].paragraph() == "" and "03.good` —" not in text  # no paragraph for a claim that holds
    assert "`03.short` — weaker here." in text and "`03.bad` — does not hold here." in text
    directional = _claim(verdict="weaker", ours=0.3, noise=0.1, unit="points", judged_by="soft falls within noise")
    assert "misses part of its rule: soft falls within noise." in directional.paragraph()
    assert "paper's figure" not in directional.paragraph()  # the paper gives none: no figure to fall short of
    seeded = _claim(verdict="weaker", ours=80.0, spread=(75, 85), seeds=3, unit="errors")
    assert seeded.seed_range() == "3 seeds, 75–85 errors"


def test_save_writes_strict_json_schema_2_and_reads_back(tmp_path):
    run = start_run("03_mnist_distillation", params={"PROFILE": "quick", "SEED": 1}, root=tmp_path)
    claims = Claims("03_mnist_distillation")
    claims.add(id="03.x", **BASE, verdict="weaker", ours=1.5, spread=(1, 2), seeds=2, noise=None)
    path = claims.save(run)
    assert path == run.dir / FILE
    obj = json.loads(path.read_text(), parse_constant=lambda c: pytest.fail(f"non-strict JSON constant {c}"))
    assert obj["schema"] == SCHEMA == "kdlab.claims/2" and obj["profile"] == "quick" and obj["seed"] == 1
    saved = obj["claims"][0]
    assert saved["verdict"] == "weaker" and saved["holds"] is True and saved["spread"] == [1.0, 2.0]
    assert "schema" not in saved and {"paper_figure", "noise_source", "control", "seeds", "result"} <= set(saved)
    found, problem = read_claims(run.dir)
    assert problem == "" and found == list(claims) and found[0].schema == 2


def test_read_claims_reads_schema_1_and_says_so(tmp_path):
    old = {"id": "03.x", "section": "§3", "statement": "s", "paper": "74", "ours": "81 errors", "holds": False}
    (tmp_path / FILE).write_text(json.dumps({"schema": "kdlab.claims/1", "claims": [old, {**old, "holds": True}]}))
    found, problem = read_claims(tmp_path)
    assert problem == "" and [c.verdict for c in found] == ["does not hold", "holds"]
    assert all(c.schema == 1 and c.result == "81 errors" and c.ours is None for c in found)
    assert tally_text(found) == "1 hold, 0 weaker, 1 do not hold"
    assert from_dict(old, 1).line() == "03.x: does not hold"


@pytest.mark.parametrize(
    "content, expected",
    [
        (None, "missing"),
        ("{not json", "not valid JSON"),
        ("[1, 2]", "does not hold a JSON object"),
        (json.dumps({"schema": "kdlab.claims/99", "claims": []}), "unknown schema"),
        (json.dumps({"schema": SCHEMA, "claims": {}}), "no list of claims"),
        (json.dumps({"schema": SCHEMA, "claims": [{"id": "bad id"}]}), "malformed"),
        (json.dumps({"schema": SCHEMA, "claims": [{"id": "03.x", **BASE, "verdict": "maybe"}]}), "malformed"),
        (json.dumps({"schema": SCHEMA, "claims": [{"id": "03.x", **BASE, "verdict": "holds", "holds": False}]}), "but"),
        (json.dumps({"schema": "kdlab.claims/1", "claims": [{"section": "§3"}]}), "malformed"),
    ],
)
def test_read_claims_never_raises_and_says_what_is_wrong(tmp_path, content, expected):
    if content is not None:
        (tmp_path / FILE).write_text(content)
    found, problem = read_claims(tmp_path)
    assert found is None and expected in problem and "\n" not in problem


def test_mcnemar_noise_counts_only_disagreements():
    a, b = _wrong(100), _wrong(100, offset=50)  # 50 + 50 discordant cases
    assert mcnemar_noise(a, b) == pytest.approx(10.0)
    assert mcnemar_noise(a, a) == 0.0
