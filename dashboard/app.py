"""kdlab dashboard: ``streamlit run dashboard/app.py [-- --runs DIR]`` (or ``kdlab dashboard``).

Reads only the run store (``runs/`` or ``$KDLAB_RUNS`` or ``--runs``); one page per module in ``dashboard/views/``
(not ``pages/``: a ``pages/`` folder beside the entry file switches Streamlit to its legacy multipage mode, which
skips this file and so ``st.navigation``, the page config and the sidebar). One page per lesson notebook (01–06),
the Claims page first and the Runs page last; every page answers at its own URL (``/temperature``, ``/runs``, ...: a lesson's page is its topic word).
"""

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # `streamlit run dashboard/app.py` puts dashboard/ on sys.path, not the repo root
    sys.path.insert(0, str(REPO))

import streamlit as st  # noqa: E402

from dashboard import ui  # noqa: E402
from kdlab.syllabus import LESSONS  # noqa: E402

st.set_page_config(page_title="kdlab — distillation dashboard", page_icon="🌡️", layout="wide")

CLAIMS = "views/claims.py"
DISTILLATION = "views/distillation.py"
ICONS = {
    "temperature": ":material/thermostat:",
    "logit_matching": ":material/functions:",
    "distillation": ":material/show_chart:",
    "missing_classes": ":material/tune:",
    "speech": ":material/record_voice_over:",
    "specialists": ":material/hub:",
}
# Claims is the default page, served at the root URL. Streamlit serves a default page *only* there (its url_path is
# merely reserved, and /<url_path> answers "Page not found"), so a hidden second page runs the same script at /claims
# for links and bookmarks to it; the default's reserved pathname must differ from it ("home", never shown).
# /sweeps was the page of notebooks 03 and 04 before each lesson had its own: a hidden page keeps the old bookmark on
# lesson 03 (which links to lesson 04's page).
PAGES = {
    "": [
        st.Page(CLAIMS, title="Claims", icon=":material/fact_check:", url_path="home", default=True),
        st.Page(CLAIMS, title="Claims", icon=":material/fact_check:", url_path="claims", visibility="hidden"),
    ],
    "Lessons": [  # one page per lesson of kdlab.syllabus, at the URL of its topic word
        st.Page(lesson.page, title=f"{lesson.number} · {lesson.title}", icon=ICONS[lesson.topic], url_path=lesson.topic)
        for lesson in LESSONS
    ],
    "Run store": [
        st.Page("views/runs.py", title="Runs", icon=":material/table_rows:", url_path="runs"),
        st.Page(DISTILLATION, title="03 · Distillation & sweeps", url_path="sweeps", visibility="hidden"),
    ],
}

page = st.navigation(PAGES)
ui.guard(ui.sidebar)
page.run()
