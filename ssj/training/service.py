"""Business training records: the form, the rules, the changes and the yearly Art 15 count (SPEC §8).

Art 15: "每年组织开展1次以上业务培训". A department records each training
session it held — title, date, organising section, hours, trainer, content
and who attended (its own users, picked from a list, and people from
outside by name) — and the list page says plainly whether this year's
requirement is met. `training_summary` gives the dashboard the same count.

A session is recorded after it was held, with the sign-in sheet in hand, so
its date cannot be in the future: the Art 15 count then means "held", not
"planned".
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Optional

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from .. import clock
from .. import audit
from ..auth.roles import SECTION_HEAD, STAFF
from ..extensions import db
from ..models import Department, Section, TrainingAttendance, TrainingSession, User

ART15_MIN_SESSIONS = 1
TITLE_LIMIT, TRAINER_LIMIT, CONTENT_LIMIT = 200, 100, 5000
NAME_LIMIT, AFFILIATION_LIMIT = 64, 100
MAX_HOURS = Decimal("24")
MAX_EXTERNALS = 300
EARLIEST = date(2000, 1, 1)

_DECIMAL = re.compile(r"^\d{1,2}(\.\d)?$")
_SPLIT = re.compile(r"[\s,，、;；]+", re.UNICODE)


def parse_day(raw: str) -> Optional[date]:
    return clock.parse_date(raw)


# --- the form -------------------------------------------------------------------


@dataclass(frozen=True)
class External:
    """Someone from outside the department, as written on the sign-in sheet."""

    name: str
    affiliation: str = ""

    @property
    def line(self) -> str:
        return f"{self.name} {self.affiliation}".strip()


def parseexternal_people(text: str) -> tuple[list[External], list[str]]:
    """One person per line, "姓名 单位"; returns the people and the line-numbered problems."""
    people: list[External] = []
    errors: list[str] = []
    seen: dict[tuple[str, str], int] = {}
    lines = text.splitlines()
    if len(lines) > MAX_EXTERNALS:
        return [], [f"外单位参训人员一次最多 {MAX_EXTERNALS} 行。"]
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line:
            continue
        parts = _SPLIT.split(line, maxsplit=1)
        name = parts[0].strip()
        affiliation = parts[1].strip() if len(parts) > 1 else ""
        if len(name) > NAME_LIMIT:
            errors.append(f"第{number}行：姓名最多 {NAME_LIMIT} 个字；姓名和单位之间请用空格隔开。")
        elif len(affiliation) > AFFILIATION_LIMIT:
            errors.append(f"第{number}行：单位最多 {AFFILIATION_LIMIT} 个字。")
        elif (name, affiliation) in seen:
            errors.append(f"第{number}行：“{line}”与第{seen[name, affiliation]}行重复。")
        else:
            seen[name, affiliation] = number
            people.append(External(name, affiliation))
    return people, errors


@dataclass
class TrainingForm:
    """业务培训记录 (Art 15): what was taught, when, by whom, to whom. Keeps every value as typed."""

    title: str = ""
    date: str = ""
    section_id: str = ""
    hours: str = ""
    trainer: str = ""
    content: str = ""
    user_ids: list[int] = field(default_factory=list)
    externals: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    external_errors: list[str] = field(default_factory=list)
    external_people: list[External] = field(default_factory=list)

    @classmethod
    def blank(cls, user: User) -> "TrainingForm":
        return cls(section_id=str(user.section_id or ""))

    @classmethod
    def from_session(cls, s: TrainingSession) -> "TrainingForm":
        return cls(
            title=s.title,
            date=s.date.isoformat(),
            section_id=str(s.section_id),
            hours=s.hours,
            trainer=s.trainer,
            content=s.content,
            user_ids=[a.user_id for a in s.attendance if a.user_id is not None],
            externals="\n".join(External(a.name, a.affiliation).line for a in s.attendance if a.user_id is None),
        )

    @classmethod
    def from_request(cls, form) -> "TrainingForm":
        return cls(
            title=form.get("title", "").strip(),
            date=form.get("date", "").strip(),
            section_id=form.get("section_id", "").strip(),
            hours=form.get("hours", "").strip(),
            trainer=form.get("trainer", "").strip(),
            content=form.get("content", "").strip(),
            user_ids=sorted({int(v) for v in form.getlist("attendee") if v.strip().isdigit()}),
            externals=form.get("externals", "").strip(),
        )

    @property
    def error_count(self) -> int:
        return len(self.errors) + len(self.external_errors)

    def validate(self, today: date, section_ids: set[int], user_ids: set[int]) -> bool:
        """Check against today and the department's sections and users (handed in, so no Flask here)."""
        e = self.errors
        if not self.title:
            e["title"] = "请填写培训名称，例如“劳动保障监察执法业务培训”。"
        elif len(self.title) > TITLE_LIMIT:
            e["title"] = f"培训名称最多 {TITLE_LIMIT} 个字。"
        day = parse_day(self.date)
        if day is None:
            e["date"] = "请按“2026-03-15”的格式填写培训日期。"
        elif day > today:
            e["date"] = f"培训日期不能晚于今天（{today.isoformat()}）：培训记录在培训举办后，按签到表登记。"
        elif day < EARLIEST:
            e["date"] = f"培训日期不能早于 {EARLIEST.isoformat()}，请检查年份。"
        if not self.section_id.isdigit() or int(self.section_id) not in section_ids:
            e["section_id"] = "请选择本部门负责组织这次培训的科室。"
        hours = self.hours.replace("小时", "").strip()
        if not _DECIMAL.match(hours) or not Decimal("0") < Decimal(hours) <= MAX_HOURS:
            e["hours"] = "请填写培训学时（小时），大于 0、不超过 24，最多一位小数，例如“2”或“1.5”。"
        else:
            self.hours = format(Decimal(hours).normalize(), "f")
        if not self.trainer:
            e["trainer"] = "请填写授课人，例如“张某某（市人社局劳动监察支队）”。"
        elif len(self.trainer) > TRAINER_LIMIT:
            e["trainer"] = f"授课人最多 {TRAINER_LIMIT} 个字。"
        if not self.content:
            e["content"] = "请简要填写培训内容，例如讲授的法规、案例和执法程序。"
        elif len(self.content) > CONTENT_LIMIT:
            e["content"] = f"培训内容最多 {CONTENT_LIMIT} 个字。"
        if set(self.user_ids) - user_ids:
            e["attendee"] = "所选参训人员中有不属于本部门的用户，请重新勾选。"
        self.external_people, self.external_errors = parseexternal_people(self.externals)
        return not self.errors and not self.external_errors

    def values(self) -> dict:
        return {
            "title": self.title,
            "date": parse_day(self.date),
            "section_id": int(self.section_id),
            "hours": self.hours,
            "trainer": self.trainer,
            "content": self.content,
        }


# --- reading ----------------------------------------------------------------------


def department_sections(department_id: int) -> list[Section]:
    return list(db.session.scalars(select(Section).where(Section.department_id == department_id).order_by(Section.code)))


def department_users(department_id: int) -> list[User]:
    """Enabled users of the department, by section: the people who can be ticked as attendees."""
    return list(
        db.session.scalars(
            select(User)
            .where(User.department_id == department_id, User.enabled.is_(True))
            .order_by(User.section_id, User.display_name, User.id)
        )
    )


def sessions_of(department_id: int, year: int) -> list[TrainingSession]:
    return list(
        db.session.scalars(
            select(TrainingSession)
            .where(TrainingSession.department_id == department_id, _in_year(year))
            .order_by(TrainingSession.date.desc(), TrainingSession.id.desc())
            # The list and the summary read every session's attendees and section.
            .options(selectinload(TrainingSession.attendance), joinedload(TrainingSession.section))
        )
    )


def _in_year(year: int):
    return TrainingSession.date.between(date(year, 1, 1), date(year, 12, 31))


def year_choices(department_id: int, this_year: int) -> list[int]:
    """This year back to the department's first recorded session, newest first."""
    first = db.session.scalar(
        select(func.min(TrainingSession.date)).where(TrainingSession.department_id == department_id)
    )
    oldest = min(first.year, this_year - 1) if first is not None else this_year - 1
    return list(range(this_year, oldest - 1, -1))


def training_summary(department_id: int, year: int) -> dict:
    """The department's Art 15 figures for a year: sessions held, people trained, and each session.

    ``attendees`` counts distinct people (a user by account, an outsider by
    name and unit), so one person at three sessions counts once;
    ``attendances`` counts seats. ``meets_art15`` is True from one session on.
    """
    sessions = sessions_of(department_id, year)
    people: set = set()
    seats = 0
    for s in sessions:
        for a in s.attendance:
            seats += 1
            people.add(("user", a.user_id) if a.user_id is not None else ("name", a.name, a.affiliation))
    return {
        "year": year,
        "count": len(sessions),
        "attendees": len(people),
        "attendances": seats,
        "hours": format(sum((Decimal(s.hours) for s in sessions), Decimal("0")).normalize(), "f"),
        "meets_art15": len(sessions) >= ART15_MIN_SESSIONS,
        "sessions": [
            {
                "id": s.id,
                "date": s.date,
                "title": s.title,
                "section": s.section.name,
                "hours": s.hours,
                "attendees": len(s.attendance),
            }
            for s in sessions
        ],
    }


def art15_indicator(summary: dict, this_year: int) -> tuple[bool, str]:
    """(met, sentence) for the list page: "本年度已开展 N 次培训" or the red reminder of Art 15."""
    year = summary["year"]
    which = "本年度" if year == this_year else f"{year}年度"
    if summary["meets_art15"]:
        return True, f"{which}已开展 {summary['count']} 次培训，参训 {summary['attendees']} 人"
    if year == this_year:
        return False, "本年度尚未开展业务培训（细则第十五条要求每年至少1次）"
    if year > this_year:
        return False, f"{which}尚未开展业务培训（细则第十五条要求每年至少1次）"
    return False, f"{which}未开展业务培训（细则第十五条要求每年至少1次）"


# --- changes (the caller's request commits them with its log entry) ----------------


def _now() -> datetime:
    return clock.now()


FIELD_LABELS = {
    "title": "培训名称",
    "date": "培训日期",
    "section_id": "组织科室",
    "hours": "学时",
    "trainer": "授课人",
    "content": "培训内容",
}


def _sync_attendance(s: TrainingSession, form: TrainingForm, users: dict[int, User]) -> tuple[int, int]:
    """Make the attendance match the form; (added, removed)."""
    wanted_users = set(form.user_ids)
    wantedexternal_people = list(dict.fromkeys(form.external_people))
    added = removed = 0
    for a in list(s.attendance):
        keep = (
            a.user_id in wanted_users
            if a.user_id is not None
            else External(a.name, a.affiliation) in wantedexternal_people
        )
        if keep:
            if a.user_id is not None:
                wanted_users.discard(a.user_id)
            else:
                wantedexternal_people.remove(External(a.name, a.affiliation))
        else:
            s.attendance.remove(a)
            removed += 1
    for user_id in sorted(wanted_users):
        u = users[user_id]
        s.attendance.append(TrainingAttendance(user_id=u.id, name=u.display_name, section_id=u.section_id))
        added += 1
    for person in wantedexternal_people:
        s.attendance.append(TrainingAttendance(name=person.name, affiliation=person.affiliation))
        added += 1
    return added, removed


def create_session(form: TrainingForm, user: User, users: dict[int, User]) -> TrainingSession:
    s = TrainingSession(department_id=user.department_id, created_by_id=user.id, created_at=_now(), **form.values())
    db.session.add(s)
    added, _ = _sync_attendance(s, form, users)
    db.session.flush()
    audit.record(
        "training_created",
        objects={"training": s.id, "date": s.date.isoformat(), "title": s.title, "attendees": added},
    )
    return s


def update_session(s: TrainingSession, form: TrainingForm, user: User, users: dict[int, User]) -> list[str]:
    """Apply the form; returns the Chinese names of what changed (empty: nothing to save)."""
    changed = []
    for name, value in form.values().items():
        if getattr(s, name) != value:
            setattr(s, name, value)
            changed.append(name)
    added, removed = _sync_attendance(s, form, users)
    labels = [FIELD_LABELS[n] for n in changed]
    if added or removed:
        labels.append("参训人员")
    if labels:
        s.updated_by_id, s.updated_at = user.id, _now()
        db.session.flush()
        audit.record(
            "training_updated",
            objects={"training": s.id, "fields": changed, "attendees_added": added, "attendees_removed": removed},
        )
    return labels


def delete_session(s: TrainingSession) -> None:
    # The log keeps what was deleted, so a record removed by mistake can be typed in again.
    audit.record(
        "training_deleted",
        objects={
            "training": s.id,
            "date": s.date.isoformat(),
            "title": s.title,
            "section": s.section_id,
            "hours": s.hours,
            "trainer": s.trainer,
            "attendees": [a.name for a in s.attendance],
        },
    )
    db.session.delete(s)
    db.session.flush()


# --- demo data ----------------------------------------------------------------------

_DEMO = [
    # (years back, month, day, title, section code, hours, trainer, content, how many users, externals)
    (
        0, 3, 12, "“双随机、一公开”抽查工作业务培训", "JCDD", "3", "县人社局劳动保障监察大队 业务骨干",
        "《“双随机、一公开”工作实施细则》逐条解读；抽查事项清单、检查对象名录库和执法检查人员名录库的维护；"
        "摇号抽取的见证和保密要求；检查报告 5 个工作日内完成的要求。",
        8, [External("李某某", "县市场监督管理局执法稽查科")],
    ),
    (
        0, 6, 18, "劳动保障监察执法程序与文书规范培训", "JCDD", "2.5", "市人社局劳动保障监察支队 讲师",
        "现场检查笔录和询问笔录的制作；责令改正、行政处罚、移送司法机关的程序和文书；典型案例评析。",
        6, [],
    ),
    (
        1, 9, 20, "社会保险基金监督检查业务培训", "SBG", "2", "县人社局社会保险股 负责人",
        "社会保险费缴纳、待遇发放的检查要点；书面检查的材料清单；发现问题后的处理与移交。",
        5, [],
    ),
]



def load_demo_training(today: Optional[date] = None, department_code: str = "RSJ") -> int:
    """Add the demo's training sessions (two this year, one last year) to the session; returns how many were added.

    Idempotent: a session with the same department, date and title is kept.
    Needs the demo's department, sections and users; without them it adds nothing.
    """
    today = today or clock.today()
    dept = db.session.scalar(select(Department).where(Department.code == department_code))
    if dept is None:
        return 0
    sections = {s.code: s for s in department_sections(dept.id)}
    users = department_users(dept.id)
    author = next((u for u in users if u.has_role(STAFF, SECTION_HEAD)), users[0] if users else None)
    if author is None:
        return 0
    added = 0
    for back, month, day, title, code, hours, trainer, content, how_many, externals in _DEMO:
        when = min(date(today.year - back, month, day), today)  # early in January both fall on today
        section = sections.get(code) or next(iter(sections.values()), None)
        if section is None:
            continue
        exists = db.session.scalar(
            select(TrainingSession.id).where(
                TrainingSession.department_id == dept.id, TrainingSession.title == title,
                _in_year(today.year - back),
            )
        )
        if exists:
            continue
        s = TrainingSession(
            department_id=dept.id, title=title, date=when, section_id=section.id, hours=hours,
            trainer=trainer, content=content, created_by_id=author.id, created_at=_now(),
        )
        # Mostly the organising section's people, then others, as a sign-in sheet would have it.
        picked = sorted(users, key=lambda u: (u.section_id != section.id, u.id))[:how_many]
        s.attendance = [
            TrainingAttendance(user_id=u.id, name=u.display_name, section_id=u.section_id) for u in picked
        ] + [TrainingAttendance(name=p.name, affiliation=p.affiliation) for p in externals]
        db.session.add(s)
        added += 1
    db.session.flush()
    return added
