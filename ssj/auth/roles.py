"""The roles live in `ssj.roles`, a module with no imports, so that the access layer loads them without
pulling in the auth package (whose routes need the access layer: the cycle auth ↔ security). This
name stays for the code that imports them from here."""
from ..roles import *  # noqa: F401,F403
