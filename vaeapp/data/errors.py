"""The error every data reader raises: :class:`DataError`, one line saying
what is wrong and how to supply usable data."""


class DataError(ValueError):
    """Data could not be found or read; the message says how to supply it."""
