"""Each lesson's paper claims, judged on a run's own numbers (``kdlab.claims`` holds the record format).

Why a package of its own: the rules that decide "holds" are the lab's scientific judgement, so they sit together,
one module per notebook, each next to the noise yardstick it uses (``judge``). Notebooks pass numbers in and print
the verdicts; no notebook decides a verdict in its own prose.
"""

from kdlab.lessons.claims.bias import missing_class_claims
from kdlab.lessons.claims.judge import K_NOISE, beats
from kdlab.lessons.claims.logit_matching import logit_matching_claims
from kdlab.lessons.claims.mnist import mnist_distillation_claims, sweep_claims_list
from kdlab.lessons.claims.specialists import specialist_claims
from kdlab.lessons.claims.speech import speech_claims
from kdlab.lessons.claims.temperature import temperature_claims

_beats = beats  # the name it had when this was one module

__all__ = [
    "K_NOISE",
    "beats",
    "logit_matching_claims",
    "missing_class_claims",
    "mnist_distillation_claims",
    "specialist_claims",
    "speech_claims",
    "sweep_claims_list",
    "temperature_claims",
]
