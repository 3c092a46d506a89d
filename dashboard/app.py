"""kdlab dashboard: ``streamlit run dashboard/app.py [-- --runs DIR]`` (or ``kdlab dashboard``).

Reads only the run store (``runs/`` or ``$KDLAB_RUNS`` or ``--runs``); one page per module in ``dashboard/views/``
(not ``pages/``: a ``pages/`` folder beside the entry file switches Streamlit to its legacy multipage mode, which
skips this file and so ``st.navigation``, the page config and the sidebar).
"""

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # `streamlit run dashboard/app.py` puts dashboard/ on sys.path, not the repo root
    sys.path.insert(0, str(REPO))

import streamlit as st  # noqa: E402

from dashboard import data  # noqa: E402

st.set_page_config(page_title="kdlab — distillation dashboard", page_icon="🌡️", layout="wide")

# Claims is the default page, served at the root URL. Streamlit serves a default page *only* there (its url_path is
# merely reserved, and /<url_path> answers "Page not found"), so a hidden second page runs the same script at /claims
# for links and bookmarks to it; the default's reserved pathname must differ from it ("home", never shown).
PAGES = [
    st.Page("views/claims.py", title="Claims", icon=":material/fact_check:", url_path="home", default=True),
    st.Page("views/claims.py", title="Claims", icon=":material/fact_check:", url_path="claims", visibility="hidden"),
    st.Page("views/runs.py", title="Runs", icon=":material/table_rows:", url_path="runs"),
    st.Page("views/soft_targets.py", title="Soft targets", icon=":material/thermostat:", url_path="soft_targets"),
    st.Page("views/sweeps.py", title="Temperature sweeps", icon=":material/show_chart:", url_path="sweeps"),
    st.Page("views/speech.py", title="Speech", icon=":material/record_voice_over:", url_path="speech"),
    st.Page("views/specialists.py", title="Specialists", icon=":material/hub:", url_path="specialists"),
]

page = st.navigation(PAGES)
data.guard(data.sidebar)
page.run()
