"""Each lesson's paper claims, judged on a run's own numbers (``kdlab.claim_record`` holds the record format).

Why a package of its own: the rules that decide "holds" are the lab's scientific judgement, so they sit together,
one module per notebook, each next to the noise yardstick it uses (``judge``). Notebooks pass numbers in and print
the verdicts; no notebook decides a verdict in its own prose.
"""
