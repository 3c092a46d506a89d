"""Lesson 05's tables beside the paper's, in percent: Table 1 (baseline, ensemble, distilled students and the matched
control), Table 5 (3 % of the data), the gain kept at each temperature and the epochs each hard-label model kept (issue
26). Used by ``views/speech.py``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dashboard import ui
from kdlab import paper

CONTROL_LABEL = "matched control (hard labels, the distilled model's budget)"


def kind(name: str) -> str:
    """baseline / ensemble / distilled / control, from a Table 1 row's model name (the matched control's name says
    "distilled model's budget", so it is tested first)."""
    name = name.lower()
    if "control" in name:
        return "control"
    return "ensemble" if "ensemble" in name else "distilled" if "distil" in name else "baseline"


def main_rows(t1: pd.DataFrame) -> dict[str, pd.Series]:
    """The row standing for each system: for the distilled model, the one chosen on validation when marked."""
    out: dict[str, pd.Series] = {}
    chosen = t1["chosen_on_val"].astype(str).str.lower().eq("true") if "chosen_on_val" in t1 else None
    for i, row in t1.iterrows():
        k = kind(str(row["model"]))
        if k not in out or (chosen is not None and chosen.loc[i]):
            out[k] = row
    return out


def gain_kept(t1: pd.DataFrame, column: str) -> float | None:
    """(distilled − baseline) / (ensemble − baseline): the paper keeps 86 % (1.9 of 2.2 points)."""
    rows = main_rows(t1)
    if set(rows) < {"baseline", "ensemble", "distilled"}:
        return None
    base, ens, dist = (float(rows[k][column]) for k in ("baseline", "ensemble", "distilled"))
    return None if ens == base or not np.isfinite([base, ens, dist]).all() else (dist - base) / (ens - base)


def table1(t1: pd.DataFrame) -> pd.DataFrame:
    """Ours beside the paper's Table 1, one row per system, percent."""
    t1_paper = pd.DataFrame(paper.TABLE1)
    ref = {kind(s): r for s, r in zip(t1_paper["system"], t1_paper.itertuples(index=False), strict=True)}
    mains = {r.name for r in main_rows(t1).values()}  # the rows that stand for the paper's three systems
    acc = {c: ui.pct(t1[c]) for c in ("frame_acc_seen", "frame_acc_unseen", "phone_error_rate") if c in t1}
    rows = []
    for i, row in t1.iterrows():
        k = kind(str(row["model"]))
        p = ref.get(k) if i in mains else None
        rows.append(
            {
                "system": ui.cell(row["model"]),
                "T": ui.fmt_t(row.get("temperature")) if k == "distilled" else "— (hard labels)",
                "chosen on validation": (
                    "✓" if str(row.get("chosen_on_val", "")).lower() == "true" else ("" if k == "distilled" else "—")
                ),
                "ours: frame acc., seen speakers": ui.fmt_pct(acc["frame_acc_seen"].loc[i]),
                "ours: frame acc., unseen speakers": ui.fmt_pct(acc["frame_acc_unseen"].loc[i]),
                "ours: phone error rate": ui.fmt_pct(acc["phone_error_rate"].loc[i]),
                "paper: frame accuracy": ui.fmt_pct(p[1]) if p else "—",
                "paper: WER": ui.fmt_pct(p[2]) if p else "—",
            }
        )
    return pd.DataFrame(rows)


def table5(t5: pd.DataFrame) -> pd.DataFrame:
    ref = table5_ref
    rows = []
    train, test = ui.pct(t5["train_frame_acc"]), ui.pct(t5["test_frame_acc"])
    for i, row in t5.iterrows():
        p = pd.DataFrame(paper.TABLE5).iloc[ref(str(row["system"]))]
        rows.append(
            {
                "system": ui.cell(row["system"]),
                "training frames": f"{int(row['train_frames']):,}" if pd.notna(row.get("train_frames")) else "—",
                "ours: train frame acc.": ui.fmt_pct(train.loc[i]),
                "ours: test frame acc.": ui.fmt_pct(test.loc[i]),
                "paper: train frame acc.": ui.fmt_pct(p["train frame accuracy (%)"]),
                "paper: test frame acc.": ui.fmt_pct(p["test frame accuracy (%)"]),
            }
        )
    return pd.DataFrame(rows)


def table5_ref(system: str) -> int:
    """The paper's Table 5 row a system of ours stands beside."""
    s = system.lower()
    return 0 if "100" in s else 2 if "soft" in s else 1


def system_label(k: str) -> str:
    """The overlay chart's name of a system kind: the control says what it controls."""
    return CONTROL_LABEL if k == "control" else k


def gain_by_t(gt: pd.DataFrame) -> pd.DataFrame:
    """``gain_by_t.csv`` (validation utterances) in words: one row per temperature."""
    rows = []
    for _, r in gt.iterrows():
        rows.append(
            {
                "T": ui.fmt_t(r.get("temperature")),
                "chosen on validation": "✓" if str(r.get("chosen_on_val", "")).lower() == "true" else "",
                "student, validation frame acc.": ui.fmt_pct(r.get("student_val_acc")),
                "share of the gain over the baseline": _share(r.get("gain_kept_vs_baseline")),
                "share of the gain over the matched control": _share(r.get("gain_kept_vs_control")),
                "student − matched control (points)": _points(r.get("student_minus_control")),
            }
        )
    return pd.DataFrame(rows)


def epochs_text(m: pd.DataFrame) -> str:
    """``member_epochs.csv``: how many epochs each hard-label model trained and which it kept (best on validation)."""
    parts = []
    for name, c in m.groupby("model", sort=False):
        kept = sorted(int(e) for e in c[c["best"].astype(str).str.lower() == "true"]["epoch"])
        if not kept:
            continue
        span = f"epoch {kept[0]}" if kept[0] == kept[-1] else f"epochs {kept[0]}–{kept[-1]}"
        parts.append(f"{name}: best validation {span} of {int(c['epoch'].max())}")
    return "; ".join(parts)


def _share(v) -> str:
    v = pd.to_numeric(v, errors="coerce")
    return "—" if pd.isna(v) else f"{float(v):.0f} %"


def _points(v) -> str:
    v = pd.to_numeric(v, errors="coerce")
    return "—" if pd.isna(v) else f"{float(v):+.1f}"
