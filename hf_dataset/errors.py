"""The one error type the dataset build raises for bad input, so the CLI can report it and exit cleanly."""


class DataError(ValueError):
    """Input the build refuses: the message names the file and line, or the value, at fault."""
