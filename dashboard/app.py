"""kdlab dashboard: ``streamlit run dashboard/app.py [-- --runs DIR]`` (or ``kdlab dashboard``).

Reads only the run store (``runs/`` or ``$KDLAB_RUNS`` or ``--runs``); one page per module in ``dashboard/pages/``.
"""

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # `streamlit run dashboard/app.py` puts dashboard/ on sys.path, not the repo root
    sys.path.insert(0, str(REPO))

import streamlit as st  # noqa: E402

from dashboard import data  # noqa: E402

st.set_page_config(page_title="kdlab — distillation dashboard", page_icon="🌡️", layout="wide")

PAGES = [
    st.Page("pages/runs.py", title="Runs", icon="📋", url_path="runs", default=True),
    st.Page("pages/soft_targets.py", title="Soft targets", icon="🌡️", url_path="soft_targets"),
    st.Page("pages/sweeps.py", title="Temperature sweeps", icon="📈", url_path="sweeps"),
    st.Page("pages/speech.py", title="Speech", icon="🗣️", url_path="speech"),
    st.Page("pages/specialists.py", title="Specialists", icon="🧩", url_path="specialists"),
]

page = st.navigation(PAGES)
data.guard(data.sidebar)
page.run()
