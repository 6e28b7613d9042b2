"""The one error type the dataset build raises for bad input, so the CLI can report it and exit cleanly."""


class DataError(ValueError):
    """Input the build refuses: the message names the file and line, or the value, at fault."""


def first_line(error: BaseException) -> str:
    """An error of another library as one line of a DataError: its first line, or its type when it has no text."""
    return (str(error).strip().splitlines() or [type(error).__name__])[0]
