"""Notebook 05's figures: how much of the ensemble's gain one distilled model keeps (Table 1)."""

from __future__ import annotations


def gain_kept_figure(table, paper: dict, profile: str):
    """Table 1 at a glance: frame accuracy of baseline, ensemble and the distilled model (chosen on validation) on
    seen and unseen speakers with the share of the ensemble's gain the distilled model keeps, the paper's three
    numbers beside them; and the phone error rate of all three (the paper reports word error rate)."""
    import matplotlib.pyplot as plt

    t = table.set_index("model")
    chosen = table[table.chosen_on_val].model.iloc[0]
    names, labels = ["baseline", "10x ensemble", chosen], ["baseline", "10× ensemble", f"distilled ({chosen[10:]})"]
    fig, axes = plt.subplots(1, 2, figsize=(11.5, 3.6), gridspec_kw={"width_ratios": [3, 2]})
    groups = [("seen speakers", "frame_acc_seen"), ("unseen speakers", "frame_acc_unseen")]
    colors = ["tab:gray", "tab:blue", "tab:orange"]
    for g, (title, col) in enumerate(groups):
        accs = [float(t.loc[n, col]) for n in names]
        for k, a in enumerate(accs):
            axes[0].bar(g * 4 + k, a, color=colors[k], label=labels[k] if g == 0 else None)
        kept = (accs[2] - accs[0]) / (accs[1] - accs[0]) if accs[1] != accs[0] else float("nan")
        axes[0].text(g * 4 + 1, max(accs) + 0.6, f"{title}\nkeeps {kept:.0%} of the gain", ha="center", fontsize=8)
    paper_acc = [paper[k][0] for k in ("baseline", "10x ensemble", "distilled")]
    for k, a in enumerate(paper_acc):
        axes[0].bar(8 + k, a, color=colors[k], alpha=0.45, hatch="//")
    kept_p = (paper_acc[2] - paper_acc[0]) / (paper_acc[1] - paper_acc[0])
    axes[0].text(9, max(paper_acc) + 0.6, f"paper (Table 1)\nkeeps {kept_p:.0%}", ha="center", fontsize=8)
    lo = min(min(float(t.loc[n, c]) for n in names for _, c in groups), min(paper_acc))
    hi = max(max(float(t.loc[n, c]) for n in names for _, c in groups), max(paper_acc))
    axes[0].set_ylim(lo - 4, hi + 4)
    axes[0].set_xticks([1, 5, 9], ["ours, seen", "ours, unseen", "paper"])
    axes[0].set_ylabel("test frame accuracy (%)")
    axes[0].legend(fontsize=8, loc="lower right")
    axes[0].set_title(f"Table 1 analog ({profile}): how much of the ensemble's gain one model keeps", fontsize=10)
    for k, n in enumerate(names):
        axes[1].bar(
            k - 0.2, float(t.loc[n, "phone_error_rate"]), 0.4, color=colors[k], label="seen" if k == 0 else None
        )
        axes[1].bar(k + 0.2, float(t.loc[n, "phone_error_rate_unseen"]), 0.4, color=colors[k], alpha=0.55,
                    label="unseen" if k == 0 else None)  # fmt: skip
    axes[1].set_xticks(range(3), labels, fontsize=8)
    axes[1].set_ylabel("phone error rate (%)")
    wer = ", ".join(f"{paper[k][1]:g}" for k in ("baseline", "10x ensemble", "distilled"))
    axes[1].set_title(f"phone error rate (paper's word error rate: {wer} %)", fontsize=10)
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    return fig
