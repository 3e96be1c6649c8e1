"""Holiday administration and the working-day calculator (SPEC §7; Art 9's "5个工作日").

The administrator enters the State Council's holiday schedule for years the
`chinese_calendar` package does not cover; `service.current_calendar()` is
what every other area uses to count working days. Blueprint name "holidays".
"""
from flask import Blueprint

bp = Blueprint("holidays", __name__)

from . import routes, todo  # noqa: E402,F401
