"""The kdlab Streamlit dashboard: reads only the run store (`dashboard/app.py` is the entry; one page per module)."""
