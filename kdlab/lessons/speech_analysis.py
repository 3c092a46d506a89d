"""Reading notebook 05's results: per-phone accuracy, the headline numbers in sentences, the full profile's recipe.

Why a module of its own: the recipe (``speech_recipe``) and the experiments (``speech``, ``speech_table5``) compute
numbers; a lesson also has to *say* what they mean — and a sentence that states a result must be computed from the
run, never typed. The functions here turn a run's tables into the sentences and small tables the notebook shows:

* ``table1_sentences``: the ensemble's gain and the share of it the distilled model keeps (§4, Table 1: "More
  than 80% of the improvement in frame classification accuracy ... is transferred to the distilled model");
* ``table5_sentences``: overfitting with 3 % of the data and hard targets vs soft targets (§6, Table 5);
* ``phone_accuracy`` / ``phone_sentences``: where, phone by phone, the ensemble's gain comes from;
* ``recipe_comparison`` / ``recipe_sentences``: the validation table the full profile's student recipe was chosen
  from (written by ``benchmarks/speech_recipes.py``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kdlab.data.speech import SpeechCorpus
from kdlab.lessons.speech_recipe import SpeechProfile


# ----------------------------------------------------------------------------------------------- the corpus
def utterance_excerpt(corpus: SpeechCorpus, split: str = "train", utt: int = 0, frames: int = 300) -> dict:
    """The first ``frames`` frames (10 ms each) of utterance ``utt`` of ``split``: ``feats`` (frames, 40) log-mel,
    ``phones`` (the phone at each frame, states pooled) and ``voice`` (the speaker) — what a spectrogram shows."""
    s = getattr(corpus, split)
    u = s.utterances()[utt]
    labels = s.labels[u][:frames].tolist()
    return {
        "feats": s.feats[u][:frames].numpy(),
        "phones": [corpus.phones[c].split("/")[0] for c in labels],
        "voice": corpus.voices[int(s.speakers[utt])],
    }


# ----------------------------------------------------------------------------------------------- Table 1
def chosen_student(table: pd.DataFrame) -> str:
    """The name of the distilled student the validation utterances chose (``run_table1``'s ``chosen_on_val``)."""
    return str(table[table.chosen_on_val].model.iloc[0])


def table1_sentences(summary: dict, paper: dict) -> str:
    """Markdown: per test set, the ensemble's gain over the baseline and the share the distilled model keeps, beside
    the paper's (``paper`` is ``kdlab.paper.table1_by_system()``: frame accuracy and WER per system)."""
    pb, pe, pd_ = (paper[k][0] for k in ("baseline", "10x ensemble", "distilled"))
    lines = [f"The paper (one test set): {pb} → {pe} % with the ensemble (+{pe - pb:.1f} points); the distilled "
             f"model {pd_} %, {(pd_ - pb) / (pe - pb):.0%} of the gain kept.\n"]  # fmt: skip
    for s in ("seen", "unseen"):
        b, e, d = (summary[f"{k}_frame_acc_{s}"] for k in ("baseline", "ensemble", "distilled"))
        kept = summary.get(f"gain_kept_{s}")
        share = f"keeps **{kept:.0%}** of that gain" if kept is not None else "has no gain to keep"
        lines.append(f"- **{s} speakers**: the baseline {b:.1f} %, the ensemble {e:.1f} % ({e - b:+.1f} points); "
                     f"the distilled model {d:.1f} % {share}.")  # fmt: skip
    lines.append(f"- **phone error rate** (seen): baseline {summary['baseline_per']:.1f} %, ensemble "
                 f"{summary['ensemble_per']:.1f} %, distilled {summary['distilled_per']:.1f} %.")  # fmt: skip
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------- Table 5
def table5_sentences(table5: pd.DataFrame) -> str:
    """Markdown: how far each system's training accuracy sits above its test accuracy (overfitting), and how much
    of the full-data baseline's test accuracy the two 3 % models reach, beside the paper's numbers."""
    t = table5.set_index("system")
    full = float(t.test_frame_acc.iloc[0])
    lines = []
    for name, row in t.iterrows():
        gap = row.train_frame_acc - row.test_frame_acc
        where = f", early-stopped at epoch {int(row.epoch)}" if "3%" in name else ""
        lines.append(f"- **{name}**: train {row.train_frame_acc:.1f} %, test {row.test_frame_acc:.1f} % "
                     f"(gap {gap:+.1f} points{where}); the paper: {row.paper_train_frame_acc} % / "
                     f"{row.paper_test_frame_acc} %.")  # fmt: skip
    hard, soft = (t.loc[f"{k} (3% of training set)"] for k in ("baseline", "soft targets"))
    paper_full = float(t.paper_test_frame_acc.iloc[0])
    lines.append(f"\nAgainst the full-data baseline's test accuracy, soft targets on 3 % of the data give "
                 f"{soft.test_frame_acc - full:+.1f} points and hard targets {hard.test_frame_acc - full:+.1f} (the "
                 f"paper: {soft.paper_test_frame_acc - paper_full:+.1f} and "
                 f"{hard.paper_test_frame_acc - paper_full:+.1f}).")  # fmt: skip
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------- per phone
def phone_accuracy(per_class: pd.DataFrame, models: list[str], top: int = 20) -> pd.DataFrame:
    """Test frame accuracy per phone (its states pooled, weighted by their frames) of ``models``, for the ``top``
    most frequent phones (rows, most frequent first; columns in the order of ``models``)."""
    pc = per_class[per_class.model.isin(models)].copy()
    pc["phone"] = pc.phone.str.split("/").str[0]

    def pooled(g: pd.DataFrame) -> float:
        return np.average(g.accuracy.fillna(0), weights=g.frames) if g.frames.sum() else np.nan

    by_phone = pc.groupby(["phone", "model"]).apply(pooled, include_groups=False).unstack()
    by_phone = by_phone.loc[pc.groupby("phone").frames.sum().sort_values(ascending=False).index[:top]]
    return by_phone[list(models)]


def phone_sentences(by_phone: pd.DataFrame) -> str:
    """Markdown: on how many of the phones each model beats the first column (the baseline), and the phones where the
    second column (the ensemble) gains the most and the least (or loses)."""
    base, others = by_phone.columns[0], list(by_phone.columns[1:])
    n = len(by_phone)
    lines = [f"- **{m}** beats the {base} on {int((by_phone[m] > by_phone[base]).sum())} of these {n} phones, "
             f"by {100 * (by_phone[m] - by_phone[base]).mean():+.1f} points on average." for m in others]  # fmt: skip
    if others:
        gain = (by_phone[others[0]] - by_phone[base]).sort_values()
        lines.append(f"- The {others[0]} gains most on **{gain.index[-1]}** ({100 * gain.iloc[-1]:+.1f} points) and "
                     f"the least on **{gain.index[0]}** ({100 * gain.iloc[0]:+.1f}).")  # fmt: skip
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------- the recipe
RECIPES_CSV = "benchmarks/results/speech_recipes_full.csv"  # written by benchmarks/speech_recipes.py


def recipe_comparison(path: str | None = None) -> pd.DataFrame:
    """The validation table the full profile's recipe was chosen from: per student variant, its best temperature
    on the validation utterances and the share of the ensemble's validation gain it keeps. Test sets play no part."""
    from kdlab.paths import project_root

    raw = pd.read_csv(path or project_root() / RECIPES_CSV)
    best = raw.loc[raw.groupby(["member_epochs", "variant"]).val_distilled.idxmax()]
    cols = ["variant", "soft_targets", "transfer_mixup", "student_epochs", "temperature", "val_baseline",
            "val_ensemble", "val_distilled", "gain_kept_val"]  # fmt: skip
    return best[cols].sort_values("gain_kept_val").reset_index(drop=True)


def recipe_sentences(table: pd.DataFrame, profile: SpeechProfile) -> str:
    """What each lever did on validation, in sentences computed from ``recipe_comparison``'s numbers, and whether
    ``profile`` uses the variant that kept the most."""

    def describe(row) -> str:
        targets = "the mean of the members' tempered distributions" if row.soft_targets == "mean_of_tempered" else (
            "the tempered mean of the members' distributions")  # fmt: skip
        copies = f"{int(row.transfer_mixup)} mixed copies of the frames" if row.transfer_mixup else "no mixed copies"
        return (f"- **{row.variant}** ({targets}, {copies}, {int(row.student_epochs)} student epochs): best at "
                f"T = {row.temperature:g}, {row.val_distilled:.1f} % on validation — "
                f"{100 * row.gain_kept_val:.0f} % of the ensemble's gain.")  # fmt: skip

    b, e = table.val_baseline.iloc[0], table.val_ensemble.iloc[0]
    best = table.iloc[-1]
    head = (f"On the validation utterances the baseline reaches {b:.1f} % and the ensemble {e:.1f} % "
            f"(+{e - b:.1f} points). From the weakest variant to the strongest:\n\n")  # fmt: skip
    uses = (profile.soft_targets == best.soft_targets and profile.transfer_mixup == best.transfer_mixup
            and profile.distilled.epochs == best.student_epochs)  # fmt: skip
    tail = (f"\n\nThe {profile.name} profile {'uses' if uses else 'does **not** use'} **{best.variant}**, the variant "
            "that kept the most on validation.")  # fmt: skip
    return head + "\n".join(describe(r) for r in table.itertuples()) + tail
