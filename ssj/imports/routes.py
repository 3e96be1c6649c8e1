"""Routes: filled in by the area's owner."""
from . import bp  # noqa: F401
