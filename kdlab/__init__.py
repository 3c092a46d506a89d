"""kdlab: a teaching lab for Hinton, Vinyals & Dean (2015), "Distilling the Knowledge in a Neural Network"."""

__version__ = "0.1.0"
