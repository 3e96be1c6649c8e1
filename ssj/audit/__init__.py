"""The access log: every signed-in read or change, denial, login and export."""
from .service import AuditWriteError, discard_uncommitted, record, record_read, sealed_ref  # noqa: F401
