"""Notebook 05's figures: the speech a frame classifier hears, Table 1 (§4) and Table 5 (§6) at a glance.

Why each exists: §4's claim is a ratio — the share of the ensemble's gain one distilled model keeps — which a bar
chart shows better than a table (``gain_kept_figure``, ``table1_figure``); "dark knowledge" is the structure in the
small probabilities, which only a posteriorgram shows (``posteriors_figure``); §6's "severe overfitting ... we did
early stopping" is a training curve (``table5_curves_figure``). Each function takes what ``kdlab.lessons.speech``
computed and returns a figure; it neither shows nor saves it (``kdlab.lab.Lab.figure`` does both).
"""

from __future__ import annotations

import numpy as np

from kdlab.lessons.speech import MATCHED_CONTROL


def spectrogram_figure(feats, phones: list[str], voice: str):
    """The log-mel features of an utterance excerpt (frames × 40 bins) with the synthesizer's phone boundaries: a
    white line where the phone changes and its name above."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(11, 3))
    ax.imshow(np.asarray(feats).T, origin="lower", aspect="auto", cmap="magma")
    starts = [0] + [t for t in range(1, len(phones)) if phones[t] != phones[t - 1]]
    for t in starts:
        ax.axvline(t - 0.5, color="w", lw=0.5)
        ax.text(t, np.asarray(feats).shape[1] + 1, phones[t], fontsize=7, rotation=90, va="bottom")
    ax.set_xlabel("frame (10 ms)")
    ax.set_ylabel("log-mel bin")
    ax.set_title(f"first {len(phones) / 100:g} s of a training utterance (voice {voice}) "
                 "with the synthesizer's phone boundaries", pad=28)  # fmt: skip
    return fig


def table1_figure(table, val_temperatures, profile: str):
    """Left: test frame accuracy of every Table 1 system on seen and unseen speakers. Right: the distilled students'
    validation accuracy against their temperature, beside the baseline's and the ensemble's."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 3.2))
    x = np.arange(len(table))
    axes[0].bar(x - 0.2, table.frame_acc_seen, 0.4, label="seen speakers")
    axes[0].bar(x + 0.2, table.frame_acc_unseen, 0.4, label="unseen speakers")
    axes[0].set_xticks(x, table.model, rotation=30, ha="right")
    axes[0].set_ylabel("test frame accuracy (%)")
    lo = min(table.frame_acc_unseen.min(), table.frame_acc_seen.min())
    axes[0].set_ylim(lo - 3, max(table.frame_acc_seen.max(), table.frame_acc_unseen.max()) + 1.5)
    axes[0].legend(fontsize=8)
    axes[0].set_title(f"Table 1 analog ({profile})")
    t = table.set_index("model")
    axes[1].plot(val_temperatures.temperature, val_temperatures.val_frame_acc, "o-")
    axes[1].axhline(t.loc["baseline", "frame_acc_val"], color="gray", ls="--", label="baseline")
    axes[1].axhline(t.loc["10x ensemble", "frame_acc_val"], color="k", ls=":", label="ensemble")
    axes[1].set_xscale("log")
    axes[1].minorticks_off()
    axes[1].set_xticks(list(val_temperatures.temperature), [f"{t:g}" for t in val_temperatures.temperature])
    axes[1].set_xlabel("temperature T")
    axes[1].set_ylabel("validation frame accuracy (%)")
    axes[1].legend(fontsize=8)
    axes[1].set_title("distilled students by temperature")
    fig.tight_layout()
    return fig


def gain_kept_figure(table, paper: dict, profile: str):
    """Table 1 at a glance: frame accuracy of baseline, ensemble and the distilled model (chosen on validation) on
    seen and unseen speakers with the share of the ensemble's gain the distilled model keeps — and, where the run has
    one, the matched control beside them (hard labels, the distilled model's budget and inputs: the bar the student
    must beat) — the paper's three numbers beside them; and the phone error rate of the three (the paper reports
    word error rate)."""
    import matplotlib.pyplot as plt

    t = table.set_index("model")
    chosen = table[table.chosen_on_val].model.iloc[0]
    names, labels = ["baseline", "10x ensemble", chosen], ["baseline", "10× ensemble", f"distilled ({chosen[10:]})"]
    colors = ["tab:gray", "tab:blue", "tab:orange", "tab:purple"]
    if MATCHED_CONTROL in t.index:
        names.append(MATCHED_CONTROL)
        labels.append("matched control (hard labels, distilled's budget)")
    step = len(names) + 1
    fig, axes = plt.subplots(1, 2, figsize=(11.5, 3.6), gridspec_kw={"width_ratios": [3, 2]})
    groups = [("seen speakers", "frame_acc_seen"), ("unseen speakers", "frame_acc_unseen")]
    for g, (title, col) in enumerate(groups):
        accs = [float(t.loc[n, col]) for n in names]
        for k, a in enumerate(accs):
            axes[0].bar(g * step + k, a, color=colors[k], label=labels[k] if g == 0 else None)
        kept = (accs[2] - accs[0]) / (accs[1] - accs[0]) if accs[1] != accs[0] else float("nan")
        axes[0].text(g * step + 1, max(accs) + 0.6, f"{title}\nkeeps {kept:.0%} of the gain", ha="center", fontsize=8)
    paper_acc = [paper[k][0] for k in ("baseline", "10x ensemble", "distilled")]
    for k, a in enumerate(paper_acc):
        axes[0].bar(2 * step + k, a, color=colors[k], alpha=0.45, hatch="//")
    kept_p = (paper_acc[2] - paper_acc[0]) / (paper_acc[1] - paper_acc[0])
    axes[0].text(2 * step + 1, max(paper_acc) + 0.6, f"paper (Table 1)\nkeeps {kept_p:.0%}", ha="center", fontsize=8)
    lo = min(min(float(t.loc[n, c]) for n in names for _, c in groups), min(paper_acc))
    hi = max(max(float(t.loc[n, c]) for n in names for _, c in groups), max(paper_acc))
    axes[0].set_ylim(lo - 4, hi + 5.5)  # room above the bars for the notes and the legend
    centre = (len(names) - 1) / 2
    axes[0].set_xticks([centre, step + centre, 2 * step + 1], ["ours, seen", "ours, unseen", "paper"])
    axes[0].set_ylabel("test frame accuracy (%)")
    axes[0].legend(fontsize=7, ncol=2, loc="upper center")
    axes[0].set_title(f"Table 1 analog ({profile}): how much of the ensemble's gain one model keeps", fontsize=10)
    for k, n in enumerate(names[:3]):
        axes[1].bar(
            k - 0.2, float(t.loc[n, "phone_error_rate"]), 0.4, color=colors[k], label="seen" if k == 0 else None
        )
        axes[1].bar(k + 0.2, float(t.loc[n, "phone_error_rate_unseen"]), 0.4, color=colors[k], alpha=0.55,
                    label="unseen" if k == 0 else None)  # fmt: skip
    axes[1].set_xticks(range(3), labels[:3], fontsize=8)
    axes[1].set_ylabel("phone error rate (%)")
    wer = ", ".join(f"{paper[k][1]:g}" for k in ("baseline", "10x ensemble", "distilled"))
    axes[1].set_title(f"phone error rate (paper's word error rate: {wer} %)", fontsize=10)
    top = max(float(t.loc[n, c]) for n in names[:3] for c in ("phone_error_rate", "phone_error_rate_unseen"))
    axes[1].set_ylim(0, 1.3 * top)
    axes[1].legend(fontsize=8, ncol=2, loc="upper center")
    fig.tight_layout()
    return fig


def gain_by_t_figure(gt, paper_kept: float):
    """The share of the ensemble's validation gain over the baseline each distilled student keeps, per temperature
    (``kdlab.lessons.speech_gain_by_t.gain_by_temperature``), beside the share over the matched control; 100 % (the
    whole gain) and the paper's "more than 80 %" as lines."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.2))
    x = np.arange(len(gt))
    vs_base = gt.gain_kept_vs_baseline.astype(float)
    vs_ctrl = gt.gain_kept_vs_control.astype(float)
    ax.bar(x - 0.2, vs_base, 0.4, color="tab:orange", label="of the gain over the baseline")
    ax.bar(x + 0.2, vs_ctrl.fillna(0.0), 0.4, color="tab:purple", label="of the gain over the matched control")
    ax.axhline(100, color="k", ls=":", lw=1, label="the whole gain")
    ax.axhline(paper_kept, color="gray", ls="--", lw=1, label=f"paper: more than {paper_kept:g} %")
    ax.axhline(0, color="k", lw=0.5)
    ticks = [f"T = {t:g}" + (" (chosen)" if c else "") for t, c in zip(gt.temperature, gt.chosen_on_val)]
    ax.set_xticks(x, ticks)
    ax.set_ylabel("share of the ensemble's gain kept (%)")
    ax.set_title("distilled students by temperature (validation utterances)", fontsize=10)
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    return fig


def posteriors_figure(posteriors: dict, frames: int = 200):
    """log10 posteriors (classes × frames) of the ensemble (teacher), the distilled student and the baseline on the
    first test utterance (at most ``frames`` frames), the true class as red dots: ``run_table1``'s ``posteriors``."""
    import matplotlib.pyplot as plt

    n = min(frames, int(posteriors["utt_bounds"][1]))
    fig, axes = plt.subplots(3, 1, figsize=(11, 6), sharex=True)
    for ax, key in zip(axes, ("teacher", "distilled", "baseline")):
        ax.imshow(np.log10(posteriors[key][:n].T + 1e-4), origin="lower", aspect="auto", cmap="viridis", vmin=-4,
                  vmax=0)  # fmt: skip
        ax.plot(posteriors["labels"][:n], "r.", ms=1.5)
        ax.set_ylabel(f"{key}\nclass")
    axes[-1].set_xlabel("frame (red: true class)")
    axes[0].set_title("log10 posteriors on a test utterance (seen speaker)")
    fig.tight_layout()
    return fig


def table5_curves_figure(curves, full_data_test_acc: float):
    """One panel per Table 5 setting: train (on the 3 % subset), validation and test frame accuracy after each epoch,
    with the full-data baseline's test accuracy dashed."""
    import matplotlib.pyplot as plt

    if "member" in curves:  # several initializations (the full profile's Table 5): draw the first
        curves = curves[curves.member == 0]
    groups = list(curves.groupby("setting", sort=False))
    fig, axes = plt.subplots(1, len(groups), figsize=(11, 3.2), sharey=True, squeeze=False)
    for ax, (name, c) in zip(axes[0], groups):
        ax.plot(c.epoch, c.train_acc, label="train (3 % subset)")
        ax.plot(c.epoch, c.val_acc, label="validation")
        ax.plot(c.epoch, c.test_acc, label="test (seen)")
        ax.axhline(full_data_test_acc, color="gray", ls="--", lw=1, label="full-data baseline, test")
        ax.set_title(name)
        ax.set_xlabel("epoch")
    axes[0, 0].set_ylabel("frame accuracy (%)")
    axes[0, 0].legend(fontsize=8)
    fig.tight_layout()
    return fig


def per_phone_figure(by_phone):
    """Test frame accuracy per phone (rows of ``by_phone``, states pooled) for each model (its columns), seen
    speakers: ``kdlab.lessons.speech.phone_accuracy``'s table."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(11, 3))
    by_phone.plot.bar(ax=ax, width=0.8)
    ax.set_ylim(0, 1.25 * float(np.nanmax(by_phone.to_numpy())))  # room for the legend above the bars
    ax.legend(ncol=len(by_phone.columns), fontsize=8, loc="upper left")
    ax.set_ylabel("test frame accuracy")
    ax.set_title(f"{len(by_phone)} most frequent phones (states pooled), seen speakers")
    fig.tight_layout()
    return fig
