"""The registry of the lessons (``kdlab.syllabus``) matches the repository: one topic word per lesson, the same in
every folder, and one notebook per lesson."""

from pathlib import Path

import pytest

from kdlab.syllabus import LESSONS, PAGES, STEMS

REPO = Path(__file__).resolve().parents[1]


def test_every_notebook_is_a_registered_lesson():
    assert sorted(p.stem for p in (REPO / "notebooks").glob("[0-9][0-9]_*.ipynb")) == [x.stem for x in LESSONS]
    assert list(STEMS) == [f"{i:02d}" for i in range(1, len(LESSONS) + 1)]
    assert all(stem.startswith(number + "_") for number, stem in STEMS.items())


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda x: x.topic)
def test_a_lesson_has_one_word_in_every_folder(lesson):
    t = lesson.topic
    assert (REPO / f"kdlab/lessons/{t}.py").is_file() or (REPO / f"kdlab/lessons/{t}/__init__.py").is_file()
    for folder in ("kdlab/lessons/claims", "kdlab/figures", "dashboard/views"):
        assert (REPO / folder / f"{t}.py").is_file(), f"{folder}/{t}.py"
    assert (REPO / "dashboard" / PAGES[lesson.number]).is_file()


def test_no_module_outside_the_topic_words_names_a_lesson():
    """Modules of lessons/, lessons/claims/, figures/ and dashboard/views/ start with a topic word (or are shared)."""
    topics = tuple(x.topic for x in LESSONS)
    shared = {"__init__", "common", "judge", "claims", "runs"}  # helpers, and the dashboard's two non-lesson pages
    for folder in ("kdlab/lessons", "kdlab/lessons/claims", "kdlab/figures", "dashboard/views"):
        for path in (REPO / folder).glob("*.py"):
            assert path.stem in shared or path.stem.startswith(topics), f"{folder}/{path.name}: no topic word"
