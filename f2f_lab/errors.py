"""The one exception type a user is meant to read.

Anything raised as `F2FError` says what went wrong and what to do about it; the CLI prints
its message as a single line and exits non-zero instead of showing a traceback.
"""


class F2FError(Exception):
    """A problem the user can act on: bad input, a missing key, no GPU memory, ..."""
