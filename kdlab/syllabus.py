"""The registry of the lessons: number, notebook stem, topic word, titles, dashboard page — the one list of them.

The CLI (``kdlab run all``), the report (``kdlab report``), the dashboard (its pages and run store labels) and the
tests read it here. The topic word names the lesson's module in every folder: ``kdlab/lessons/<topic>``,
``kdlab/lessons/claims/<topic>.py``, ``kdlab/figures/<topic>.py`` and ``dashboard/views/<topic>.py``. A notebook's
stem is also its run-store folder and its ``reference/`` folder, so it keeps its name. A leaf: imports nothing.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Lesson:
    number: str  # "01": what `kdlab run 01` and the dashboard's run labels use
    stem: str  # notebooks/<stem>.ipynb, runs/<stem>/, reference/<stem>/
    topic: str  # the topic word, the same in every folder
    title: str  # the dashboard page's title, after "NN · "
    heading: str  # the report's heading: what the lesson shows and the paper's section

    @property
    def page(self) -> str:
        """The dashboard page's script, relative to dashboard/ (its URL path is the topic word)."""
        return f"views/{self.topic}.py"


LESSONS = (
    Lesson("01", "01_softmax_temperature", "temperature", "Soft targets", "Soft targets and the temperature (§2)"),
    Lesson(
        "02",
        "02_logit_matching_limit",
        "logit_matching",
        "Logit matching",
        "Logit matching is the high-temperature limit (§2.1)",
    ),
    Lesson("03", "03_mnist_distillation", "distillation", "Distillation & sweeps", "Distilling an MNIST teacher (§3)"),
    Lesson(
        "04",
        "04_missing_class_bias",
        "missing_classes",
        "Missing classes",
        "Missing classes and the bias correction (§3)",
    ),
    Lesson(
        "05",
        "05_speech_frames",
        "speech",
        "Speech",
        "Speech frames: ensemble distillation, soft targets as a regularizer (§4, §6)",
    ),
    Lesson("06", "06_specialists", "specialists", "Specialists", "Specialists on MNIST-100 (§5, §6.1)"),
)

STEMS = {lesson.number: lesson.stem for lesson in LESSONS}  # "03" -> "03_mnist_distillation"
PAGES = {lesson.number: lesson.page for lesson in LESSONS}  # "03" -> "views/distillation.py"
TITLES = {lesson.number: lesson.title for lesson in LESSONS}  # "03" -> "Distillation & sweeps"
