"""One exception type for every data problem, so callers (CLI, notebooks, dashboard) can show one clean line."""


class DataError(RuntimeError):
    """A data file is missing, truncated, altered or from another recipe.

    The message is a single line that names the file, what was expected, and the command that repairs it
    (e.g. ``kdlab fetch mnist``). The CLI prints it without a traceback.
    """
