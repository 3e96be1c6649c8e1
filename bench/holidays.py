"""Benchmark of the working-day calendar built from entered holidays (SPEC §7; Art 9).

Run:  .venv/bin/python -m bench.holidays [--years N] [--repeat R]

Builds a throwaway instance (real SQLite, real keys, migrated schema) with N
years after the package's last year entered the way an administrator would
(about 30 days a year: seven holidays and their make-up Saturdays), every
year marked complete, and times, best of R:
  - `current_calendar()`: the query and the Calendar built once per request;
  - a 5- and a 120-working-day deadline over a year boundary;
  - `year_schedule` for one year (what the admin page shows);
  - checking a 400-line pasted schedule against the stored days;
  - the admin page and the calculator (120 days) through the test client.
Setup is not timed. Figures are printed, never asserted.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

# (month, day, length, name): a plausible schedule shape, not any real year's.
SHAPE = [(1, 1, 1, "元旦"), (2, 10, 8, "春节"), (4, 4, 3, "清明节"), (5, 1, 5, "劳动节"),
         (6, 9, 3, "端午节"), (9, 15, 3, "中秋节"), (10, 1, 7, "国庆节")]


def schedule(year: int) -> list[tuple[date, bool, str]]:
    days = []
    for month, day, length, name in SHAPE:
        first = date(year, month, day)
        days += [(first + timedelta(days=i), False, name) for i in range(length)]
        # The Saturday before a long break is worked, as the State Council often does.
        if length >= 5:
            sat = first - timedelta(days=(first.weekday() - 5) % 7 or 7)
            days.append((sat, True, name))
    seen: dict[date, tuple[date, bool, str]] = {}
    for d in days:
        seen.setdefault(d[0], d)
    return list(seen.values())


def best(repeat: int, fn) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--years", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    from flask import g
    from flask_migrate import upgrade

    from ssj import create_app
    from ssj.audit.service import ensure_head
    from ssj.auth.passwords import hash_password
    from ssj.calendar_admin import service
    from ssj.extensions import db
    from ssj.keys import create_keys
    from ssj.models import Department, Holiday, HolidayYear, User
    from ssj.workdays import PACKAGE_YEARS
    from tests.conftest import login

    instance = Path(tempfile.mkdtemp(prefix="ssj-bench-holidays-"))
    create_keys(instance / "keys")
    app = create_app({"TESTING": True}, instance_path=str(instance))
    first_year = PACKAGE_YEARS.stop
    years = range(first_year, first_year + args.years)
    with app.app_context():
        upgrade()
        ensure_head()
        dept = Department(code="RSJ", name="商水县人力资源和社会保障局")
        admin = User(username="admin", display_name="管理员", password_hash=hash_password("Bench-password-1"),
                     department=dept)
        admin.set_roles(["admin"])
        db.session.add_all([dept, admin])
        db.session.flush()
        now = datetime.now(timezone.utc)
        for y in years:
            for d, working, name in schedule(y):
                db.session.add(Holiday(date=d, is_working_day=working, name=name, entered_by_id=admin.id, entered_at=now))
            db.session.add(HolidayYear(year=y, complete=True, marked_by_id=admin.id, marked_at=now))
        db.session.commit()
        stored = db.session.scalar(db.select(db.func.count()).select_from(Holiday))

    paste = "\n".join(f"{d.isoformat()} {'调休上班' if w else name}"
                      for y in range(first_year + args.years, first_year + args.years + 14)
                      for d, w, name in schedule(y))
    paste = "\n".join(paste.splitlines()[:400])  # the form's limit, all valid and new

    figures = {}
    with app.test_request_context():
        def build():
            g.pop("_ssj_calendar", None)
            return service.current_calendar()

        figures["current_calendar() build"] = best(args.repeat, build)
        cal = build()
        start = date(first_year, 12, 20)
        figures["add_working_days(5) over new year"] = best(args.repeat, lambda: cal.add_working_days(start, 5))
        figures["add_working_days(120)"] = best(args.repeat, lambda: cal.add_working_days(start, 120))
        entered = {d for d, _, _ in schedule(first_year)}
        figures["year_schedule (one year)"] = best(args.repeat, lambda: service.year_schedule(cal, first_year, entered))
        stored_map = service.stored_entries()
        figures["check a 400-line paste"] = best(
            args.repeat, lambda: service.BulkForm(text=paste).validate(stored_map)
        )

    client = app.test_client()
    login(client, "admin", "Bench-password-1")
    figures["GET /admin/holidays (whole page)"] = best(
        args.repeat, lambda: client.get(f"/admin/holidays?year={first_year}")
    )
    figures["GET /workdays?days=120"] = best(
        args.repeat, lambda: client.get(f"/workdays?start={first_year}-12-20&days=120")
    )

    print(f"{stored} stored days over {args.years} years; best of {args.repeat}")
    for name, seconds in figures.items():
        print(f"  {name:36s} {seconds * 1000:8.2f} ms")


if __name__ == "__main__":
    main()
