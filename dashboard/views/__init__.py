"""The dashboard's pages, one per lesson (named by its topic word) plus Claims and Runs; run by ``st.navigation``."""
