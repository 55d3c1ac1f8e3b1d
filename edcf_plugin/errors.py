"""User-facing errors.

Every error a user can cause (bad input, a wrong weights file, an unknown option) is an :class:`EDCFError`.
Command-line entry points print its message on one line and exit with status 2; anything else is a bug and
keeps its traceback.
"""


class EDCFError(Exception):
    """Base class for errors caused by the user's input, not by a bug."""


class InputError(EDCFError):
    """A missing/corrupt image, a bad box, an unreadable annotation or dataset."""


class WeightsError(EDCFError):
    """A missing, corrupt or mismatched weights file."""


class ConfigError(EDCFError):
    """An unknown variant, an unknown config key, or a value of the wrong type."""


def one_line(exc: BaseException) -> str:
    """An error's message on one line (a YAML parser's message spans several: its lines are joined)."""
    return " ".join(line.strip() for line in str(exc).splitlines() if line.strip())


def one_line_warnings(prog: str) -> None:
    """Command-line entry points: show warnings (a truncated frame, a short annotation, an unreadable timing
    file) as one ``<prog>: warning: ...`` line on stderr, like the errors."""
    import warnings

    warnings.formatwarning = lambda message, category, filename, lineno, line=None: f"{prog}: warning: {message}\n"
