"""Notebook 05: the share of the ensemble's gain each distilled student keeps, at each of the paper's temperatures.

Why: §4 "tried temperatures of [1, 2, 5, 10]" and reports one distilled model; the paper's mechanism is the soft
targets at T > 1, so the lesson shows every temperature, not only the one validation chose (issue 26). The table is
read from ``run_table1``'s validation column only — held-out *training* utterances — so nothing here looks at a test
set. A share above 100 % means the student beat the ensemble it learned from; ``gain_by_t_sentences`` says why
from the run's own numbers: the student trained on more inputs (mixed copies of the frames) and, possibly, for more
epochs than the members, so its gain over the matched control (the same budget and inputs on hard labels) is the
part the soft targets bought.
"""

from __future__ import annotations

import pandas as pd

from kdlab.lessons.common import gain_kept
from kdlab.lessons.speech import MATCHED_CONTROL


def gain_by_temperature(table: pd.DataFrame) -> pd.DataFrame:
    """One row per temperature, from ``run_table1``'s table (validation frame accuracy, %): the student's accuracy,
    the share of the ensemble's gain over the baseline it keeps (%), the share of the ensemble's gain over the
    matched control (% — empty when the ensemble does not beat the control) and the student minus the control
    (points). ``chosen_on_val`` marks the student Table 1 reports."""
    t = table.set_index("model")
    base, ens = float(t.loc["baseline", "frame_acc_val"]), float(t.loc["10x ensemble", "frame_acc_val"])
    ctrl = float(t.loc[MATCHED_CONTROL, "frame_acc_val"]) if MATCHED_CONTROL in t.index else float("nan")
    rows = []
    for _, r in t[t.index.str.startswith("distilled")].iterrows():
        d = float(r.frame_acc_val)
        kept = gain_kept(base, ens, d) if ens > base else None
        kept_c = gain_kept(ctrl, ens, d) if ens > ctrl else None
        rows.append({
            "temperature": float(r.temperature),
            "student_val_acc": d,
            "gain_kept_vs_baseline": None if kept is None else 100 * kept,
            "gain_kept_vs_control": None if kept_c is None else 100 * kept_c,
            "student_minus_control": d - ctrl,
            "chosen_on_val": bool(r.chosen_on_val),
        })  # fmt: skip
    out = pd.DataFrame(rows).sort_values("temperature", ignore_index=True)
    out.attrs.update(baseline=base, ensemble=ens, control=ctrl)
    return out


def gain_by_t_sentences(gt: pd.DataFrame, student_epochs: int, member_epochs: list[int], mixed_copies: int) -> str:
    """The gain-by-temperature table in sentences, and, for every student that keeps more than 100 % of the
    ensemble's gain over the baseline, why — from the numbers: its budget (epochs, inputs) against the members' and
    its accuracy against the matched control's."""
    base, ens, ctrl = gt.attrs["baseline"], gt.attrs["ensemble"], gt.attrs["control"]
    out = [f"On the validation utterances the baseline reaches {base:.1f} %, the ensemble {ens:.1f} % and the "
           f"matched control {ctrl:.1f} %."]  # fmt: skip
    if not ens > base:
        out.append("The ensemble gains nothing over the baseline here, so no share of a gain can be kept.")
        return " ".join(out)
    for r in gt.itertuples():
        out.append(f"T = {r.temperature:g}: student {r.student_val_acc:.1f} %, {r.gain_kept_vs_baseline:.0f} % of the "
                   f"ensemble's gain over the baseline, {r.student_minus_control:+.1f} points against the matched "
                   f"control" + (" (chosen on validation)." if r.chosen_on_val else "."))  # fmt: skip
    over = gt[gt.gain_kept_vs_baseline > 100]
    if over.empty:
        out.append("No student keeps more than the whole gain.")
        return " ".join(out)
    temps = ", ".join(f"{t:g}" for t in over.temperature)
    lo, hi = min(member_epochs), max(member_epochs)
    kept_epochs = f"epoch {lo}" if lo == hi else f"epochs {lo}–{hi}"
    why = (f"At T = {temps} the student beats the ensemble it learned from. It is not a like-for-like comparison: "
           f"the student trained {student_epochs} epochs on the frames and {mixed_copies} mixed copies of them "
           f"({mixed_copies + 1}× the inputs), while the baseline and the members kept their best validation "
           f"{kept_epochs} on the plain frames.")  # fmt: skip
    beat = over[over.student_minus_control > 0]
    if len(beat) == len(over):
        why += (f" The matched control — the same budget and inputs on hard labels — reaches {ctrl:.1f} %, below each "
                f"of these students, so part of their gain is the soft targets' and part the budget's"
                + (f"; measured from the control, they keep {_share(over.gain_kept_vs_control)} of the ensemble's "
                   "gain over it." if ens > ctrl else
                   "; the ensemble itself does not beat the control, so the budget alone explains the ensemble's "
                   "margin."))  # fmt: skip
    else:
        why += (f" The matched control — the same budget and inputs on hard labels — reaches {ctrl:.1f} %, as high as "
                "or higher than some of these students: for them the budget, not the soft targets, explains the "
                "share above 100 %.")  # fmt: skip
    out.append(why)
    return " ".join(out)


def _share(values: pd.Series) -> str:
    v = [x for x in values if x is not None and x == x]
    if not v:
        return "no measurable share"
    return f"{v[0]:.0f} %" if len(v) == 1 else f"{min(v):.0f}–{max(v):.0f} %"
