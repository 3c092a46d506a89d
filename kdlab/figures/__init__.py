"""Figures the lesson notebooks draw from what a lesson computed (matplotlib), one module per notebook.

Kept out of ``kdlab.lessons`` so a recipe can run where nothing draws (a benchmark, ``kdlab train``, a test), and
out of the notebooks so a lesson's cells stay about the lesson. Each function takes what a lesson returned and
returns a matplotlib figure; ``kdlab.lab.Lab.figure`` saves and shows it.
"""
