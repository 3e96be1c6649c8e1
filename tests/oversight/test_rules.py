"""The flag rules as pure functions, with explicit entries and explicit times (SPEC §5 console).

Each rule is checked at its threshold from both sides, so moving a
threshold or breaking a rule fails here; the route-level tests in
test_flags_planted.py show the same rules catching what people did.
"""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from ssj.oversight import flags
from ssj.oversight.flags import NeedToKnow, Place, TaskFacts
from ssj.workdays import Calendar

CST = ZoneInfo("Asia/Shanghai")
UTC = dt.timezone.utc
CAL = Calendar()
_seq = iter(range(1, 10**6))


def at(text: str) -> dt.datetime:
    """A Beijing time written as people say it."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=CST)


def entry(when: dt.datetime, action: str = "read:main.todo", *, username="staff_jc", user_id=2, roles=("staff",),
          department="RSJ", section="JCDD", outcome="ok", reason=None, objects=None, task_id=None, client="10.1.1.5"):
    return {
        "seq": next(_seq),
        "at": when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "username": username,
        "user_id": user_id,
        "roles": list(roles),
        "department": department,
        "section": section,
        "client": client,
        "action": action,
        "objects": objects or {},
        "outcome": outcome,
        "reason": reason,
        "task_id": task_id,
    }


def minutes(start: str, *offsets: int) -> list[dt.datetime]:
    return [at(start) + dt.timedelta(minutes=m) for m in offsets]


# --- repeated denials --------------------------------------------------------------------------


def denied(when, username="staff_sb", reason="role", **kw):
    return entry(when, "read:admin.users", username=username, outcome="denied", reason=reason, **kw)


def test_five_denials_within_an_hour_are_one_flag():
    entries = [denied(t) for t in minutes("2025-10-09 10:00", 0, 10, 20, 40, 59)]
    (hit,) = flags.repeated_denials(entries)
    assert hit.seqs == tuple(e["seq"] for e in entries)
    assert hit.who == "staff_sb" and "5 次被拒绝" in hit.summary and "角色无权访问 5 次" in hit.summary


def test_four_denials_or_five_spread_over_more_than_an_hour_are_not_flagged():
    assert flags.repeated_denials([denied(t) for t in minutes("2025-10-09 10:00", 0, 10, 20, 30)]) == []
    assert flags.repeated_denials([denied(t) for t in minutes("2025-10-09 10:00", 0, 15, 30, 45, 61)]) == []


def test_denials_count_per_person_and_anonymous_ones_by_address():
    mixed = [denied(t, username=u) for t, u in zip(minutes("2025-10-09 10:00", 0, 1, 2, 3, 4, 5), "ababab")]
    assert flags.repeated_denials(mixed) == []
    anonymous = [denied(t, username=None, user_id=None, reason="not_signed_in", client="10.9.9.9")
                 for t in minutes("2025-10-09 10:00", 0, 1, 2, 3, 4)]
    (hit,) = flags.repeated_denials(anonymous)
    assert hit.who == "未登录（来源 10.9.9.9）" and hit.username is None


def test_a_long_spree_is_one_flag_and_a_later_one_another():
    times = minutes("2025-10-09 10:00", *range(0, 150, 10)) + minutes("2025-10-09 18:00", 0, 1, 2, 3, 4)
    hits = flags.repeated_denials([denied(t) for t in times])
    assert [len(h.seqs) for h in hits] == [15, 5]


# --- bulk exports ------------------------------------------------------------------------------


def export(when, rows=10, username="staff_jc", **kw):
    return entry(when, "export", username=username, objects={"kind": "targets", "rows": rows}, **kw)


def test_one_export_of_500_rows_is_flagged_and_499_is_not():
    (hit,) = flags.bulk_exports([export(at("2025-10-09 10:00"), rows=500)])
    assert "500 行" in hit.summary
    assert flags.bulk_exports([export(at("2025-10-09 10:00"), rows=499)]) == []


def test_three_exports_or_prints_within_an_hour_are_flagged():
    print_ = entry(at("2025-10-09 10:50"), "sealed_read:print", objects={"positions": [1, 2, 3]}, task_id=7)
    entries = [export(at("2025-10-09 10:00")), export(at("2025-10-09 10:30")), print_]
    (hit,) = flags.bulk_exports(entries)
    assert hit.seqs == tuple(e["seq"] for e in entries)
    assert "打印抽中名单（任务 7） 1 次" in hit.summary and "共 23 行" in hit.summary


def test_exports_spread_out_refused_or_by_the_office_itself_are_not_counted():
    assert flags.bulk_exports([export(t) for t in minutes("2025-10-09 10:00", 0, 40, 80)]) == []
    refused = export(at("2025-10-09 10:10"), outcome="denied")
    own = entry(at("2025-10-09 10:20"), "oversight_checkpoints_exported", objects={"rows": 900})
    archive = entry(at("2025-10-09 10:21"), "archive_downloaded", objects={"files": ["a"]})
    assert flags.export_rows(archive) == 0
    reads = entry(at("2025-10-09 10:25"), "sealed_read:task_list", objects={"positions": list(range(1, 600))})
    assert flags.bulk_exports([export(at("2025-10-09 10:00")), refused, own, reads, export(at("2025-10-09 10:30"))]) == []


# --- night, weekends and holidays ----------------------------------------------------------------


@pytest.mark.parametrize("local, expected", [
    ("2025-10-09 10:00", None),            # Thursday
    ("2025-10-09 19:59", None),
    ("2025-10-09 20:00", "夜间"),
    ("2025-10-10 06:59", "夜间"),
    ("2025-10-10 07:00", None),
    ("2025-10-18 10:00", "周末"),          # an ordinary Saturday
    ("2025-10-11 10:00", None),            # Saturday, but a make-up working day 调休上班
    ("2025-09-28 21:30", "夜间"),          # Sunday make-up working day, at night
    ("2025-10-01 10:00", "国庆节"),
    ("2025-10-03 23:00", "国庆节、夜间"),
    ("2026-02-17 09:00", "春节"),
])
def test_off_hours_by_beijing_time_and_the_calendar(local, expected):
    assert flags.off_hours_reason(at(local), CAL, CST) == expected


def test_off_hours_is_judged_in_beijing_time_whatever_the_clock_says():
    # 13:30 UTC on a Thursday is 21:30 in Beijing; 23:30 UTC on Friday is Saturday morning there.
    assert flags.off_hours_reason(dt.datetime(2025, 10, 9, 13, 30, tzinfo=UTC), CAL, CST) == "夜间"
    assert flags.off_hours_reason(dt.datetime(2025, 10, 17, 23, 30, tzinfo=UTC), CAL, CST) == "周末"
    with pytest.raises(ValueError):
        flags.off_hours_reason(dt.datetime(2025, 10, 9, 10, 0), CAL, CST)


def test_a_year_without_holiday_data_counts_weekends_only_and_says_so():
    assert flags.off_hours_reason(at("2030-01-01 10:00"), CAL, CST) is None  # a Tuesday; 元旦 unknown
    (warning,) = flags.calendar_warnings(dt.date(2030, 1, 1), dt.date(2030, 1, 31), CAL)
    assert "2030年的法定节假日尚未录入" in warning
    assert len(flags.calendar_warnings(dt.date(2029, 12, 1), dt.date(2030, 1, 31), CAL)) == 2
    entered = Calendar({dt.date(2030, 1, 1): (False, "元旦")})
    assert flags.off_hours_reason(at("2030-01-01 10:00"), entered, CST) == "元旦"
    assert flags.calendar_warnings(dt.date(2025, 1, 1), dt.date(2025, 12, 31), CAL) == []


def test_the_windows_sent_to_the_database_are_exactly_the_off_hours():
    windows = flags.off_hours_windows(dt.date(2025, 9, 26), dt.date(2025, 10, 13), CAL, CST)
    t = at("2025-09-26 00:00")
    end = at("2025-10-14 00:00")
    while t < end:
        inside = any(a <= t < b for a, b in windows)
        assert inside == (flags.off_hours_reason(t, CAL, CST) is not None), t
        t += dt.timedelta(minutes=15)
    # The National Day week is one unbroken window from the evening before to the morning after.
    assert (at("2025-09-30 20:00").astimezone(UTC), at("2025-10-09 07:00").astimezone(UTC)) in windows


def test_off_hours_visits_group_a_persons_entries_less_than_an_hour_apart():
    entries = [entry(t) for t in minutes("2025-10-09 21:00", 0, 30, 130)]
    entries.append(entry(at("2025-10-09 21:10"), username=None, user_id=None, outcome="denied"))
    entries.append(entry(at("2025-10-09 15:00")))
    hits = flags.off_hours(entries, CAL, CST)
    assert [h.seqs for h in hits] == [(entries[0]["seq"], entries[1]["seq"]), (entries[2]["seq"],)]
    assert hits[0].summary == "2025-10-09 21:00–21:30（夜间）访问 2 次。"


# --- need to know ----------------------------------------------------------------------------------

TASK = 7
NTK = NeedToKnow(
    tasks={TASK: TaskFacts(organizer_id=2, section="JCDD", department="RSJ")},
    places={TASK: [
        Place(attempt_id=3, position=1, user_id=5),
        Place(attempt_id=3, position=2, user_id=5, until=at("2025-10-09 12:00").astimezone(UTC)),
        Place(attempt_id=3, position=2, user_id=6),
    ]},
    sealed_pages={"ceremony.sealed_list": "抽中名单"},
)


def sealed(when=None, purpose="task_list", positions=(1, 2, 3), record=3, **who):
    return entry(when or at("2025-10-09 10:00"), f"sealed_read:{purpose}", task_id=TASK,
                 objects={"kind": "result", "record": record, "positions": list(positions), "target_refs": []}, **who)


@pytest.mark.parametrize("who", [
    dict(username="staff_jc", user_id=2, roles=("staff",), section="JCDD"),                      # the organizer
    dict(username="head_jc", user_id=3, roles=("section_head",), section="JCDD"),                # head of its section
    dict(username="supervisor", user_id=4, roles=("supervisor",), section=None),                 # its department's leader
])
def test_need_to_know_readers_of_the_whole_list_are_not_flagged(who):
    assert flags.why_outside(sealed(**who), NTK) is None


def test_an_inspector_reading_their_own_place_is_not_flagged():
    own = sealed(purpose="own_assignment", positions=[1], record="3:1:9",
                 username="inspector_jc", user_id=5, roles=("inspector",))
    assert flags.why_outside(own, NTK) is None
    before = sealed(at("2025-10-09 11:59"), purpose="own_assignment", positions=[2], record="3:2:9",
                    username="inspector_jc", user_id=5, roles=("inspector",))
    assert flags.why_outside(before, NTK) is None


@pytest.mark.parametrize("who, record, positions, when, words", [
    # staff of the section who is not the organizer
    (dict(username="staff_x", user_id=9, roles=("staff",), section="JCDD"), 3, [1, 2], None, "既不是该任务的组织人"),
    # the organizer after moving to another section (as the entry recorded)
    (dict(username="staff_jc", user_id=2, roles=("staff",), section="SBG"), 3, [1], None, "既不是该任务的组织人"),
    # a head of another section, a supervisor of another department
    (dict(username="head_sb", user_id=8, roles=("section_head",), section="SBG"), 3, [1], None, "既不是"),
    (dict(username="sup_scj", user_id=8, roles=("supervisor",), department="SCJ"), 3, [1], None, "既不是"),
    # an inspector reading beyond their own place, or after being replaced, or in a voided attempt
    (dict(username="inspector_jc", user_id=5, roles=("inspector",)), 3, [1, 3], None, "第 3 号对象的检查人员"),
    (dict(username="inspector_jc", user_id=5, roles=("inspector",)), "3:2:9", [2], at("2025-10-09 12:00"), "第 2 号对象"),
    (dict(username="inspector_jc", user_id=5, roles=("inspector",)), "4:1:9", [1], None, "第 1 号对象"),
    # a supervisor who is also admin: the admin role vetoes
    (dict(username="boss", user_id=4, roles=("admin", "supervisor")), 3, [1], None, "系统管理员"),
    (dict(username="discipline", user_id=7, roles=("discipline",)), 3, [1], None, "纪检监察"),
])
def test_reads_outside_need_to_know_are_flagged_with_why(who, record, positions, when, words):
    e = sealed(when, record=record, positions=positions, **who)
    reason = flags.why_outside(e, NTK)
    assert reason is not None and words in reason
    (hit,) = flags.outside_need_to_know([e], NTK)
    assert hit.seqs == (e["seq"],) and words in hit.summary


def test_inspection_records_are_judged_by_the_readers_place_not_by_their_record_number():
    # Inspection records are numbered "task:position", not by attempt.
    own = entry(at("2025-10-09 10:00"), "sealed_read:record", task_id=TASK, username="inspector_jc", user_id=6,
                roles=("inspector",), objects={"kind": "record", "record": f"{TASK}:2", "positions": [2]})
    assert flags.why_outside(own, NTK) is None
    other = dict(own, seq=next(_seq), objects={"kind": "record", "record": f"{TASK}:1", "positions": [1]})
    assert "第 1 号对象" in flags.why_outside(other, NTK)


def test_after_publication_nothing_is_secret_any_more():
    published = NeedToKnow(tasks={TASK: TaskFacts(2, "JCDD", "RSJ", published_at=at("2025-11-01 09:00"))})
    reader = dict(username="staff_x", user_id=9, roles=("staff",), section="SBG")
    assert flags.why_outside(sealed(at("2025-11-01 09:00"), **reader), published) is None
    assert flags.why_outside(sealed(at("2025-11-01 08:59"), **reader), published) is not None


def test_a_read_of_a_task_that_no_longer_exists_is_flagged():
    e = sealed(username="staff_jc", user_id=2, roles=("staff",))
    e["task_id"] = 99
    assert "不存在" in flags.why_outside(e, NTK)


def test_refused_attempts_at_sealed_pages_are_flagged_and_other_refusals_are_not():
    attempt = entry(at("2025-10-09 10:00"), "read:ceremony.sealed_list", username="staff_sb", outcome="denied",
                    reason="no_need_to_know", objects={"endpoint": "ceremony.sealed_list", "args": {"task_id": TASK}})
    elsewhere = entry(at("2025-10-09 10:01"), "read:admin.users", username="staff_sb", outcome="denied", reason="role")
    (hit,) = flags.outside_need_to_know([attempt, elsewhere], NTK)
    assert hit.summary == f"试图打开抽中名单（任务 {TASK}），被系统拒绝（无知悉权限）。"


# --- events reviewed one by one -------------------------------------------------------------------


def test_redraws_show_their_reasons():
    asked = entry(at("2025-10-09 10:00"), "redraw_requested", reason="骰子掉落，点数无法确认",
                  objects={"task": 7, "attempt": 1, "state": "sealed"}, task_id=7)
    approved = entry(at("2025-10-09 11:00"), "redraw_approved", username="supervisor", reason=None, task_id=7,
                     objects={"task": 7, "attempt": 1, "requested_by": "staff_jc", "request": "骰子掉落，点数无法确认"})
    other = entry(at("2025-10-09 12:00"), "draw_sealed", task_id=7)
    hits = flags.redraws([other, approved, asked])
    assert [h.summary for h in hits] == [
        "申请作废任务 7 第 1 次抽取并重新抽取。原因：骰子掉落，点数无法确认",
        "批准作废任务 7 第 1 次抽取（申请人 staff_jc，原因：骰子掉落，点数无法确认）。",
    ]


def test_publication_steps_are_listed_whatever_their_exact_name():
    names = ["publication_requested", "publication_approved", "publish_done", "unseal_refused", "draw_sealed"]
    hits = flags.publication([entry(at("2025-10-09 10:00"), n, task_id=7) for n in names])
    assert [h.action for h in hits] == names[:4]


def test_key_operations_and_integrity_failures_are_listed():
    rotated = entry(at("2025-10-09 10:00"), "keys_rotated", username="cli", user_id=None, roles=(),
                    objects={"rewrapped": 4, "new_kek_id": "abcd"}, client="cli")
    broken = entry(at("2025-10-09 11:00"), "sealed_integrity_failure", outcome="error", task_id=7,
                   objects={"endpoint": "ceremony.sealed_list"})
    hits = flags.key_operations([rotated, broken, entry(at("2025-10-09 12:00"))])
    assert "重新封装 4 个任务数据密钥" in hits[0].summary and "完整性校验" in hits[1].summary
    assert len(hits) == 2


def test_admin_changes_of_roles_scope_and_passwords_are_listed_but_not_renames():
    admin = dict(username="admin", user_id=1, roles=("admin",))
    role = entry(at("2025-10-09 10:00"), "role_change", **admin,
                 objects={"user": 4, "username": "staff_sb", "before": ["staff"], "after": ["staff", "supervisor"]})
    moved = entry(at("2025-10-09 10:01"), "user_updated", **admin,
                  objects={"user": 4, "username": "staff_sb", "changes": {"section_id": [2, 1]}})
    renamed = entry(at("2025-10-09 10:02"), "user_updated", **admin,
                    objects={"user": 4, "username": "staff_sb", "changes": {"display_name": ["a", "b"]}})
    reset = entry(at("2025-10-09 10:03"), "password_reset", **admin, objects={"user": 2, "username": "head_jc"})
    hits = flags.admin_changes([role, moved, renamed, reset])
    assert [h.summary for h in hits] == [
        "把 staff_sb 的角色由“科室工作人员”改为“科室工作人员、局领导”。",
        "修改了 staff_sb 的所在科室。",
        "重置了 head_jc 的密码。",
    ]


def test_every_kind_has_a_rule_and_a_clean_morning_raises_nothing():
    assert set(flags.RULES) == set(flags.KIND_BY_CODE)
    morning = [entry(t) for t in minutes("2025-10-09 09:00", 0, 5, 10, 30, 60)]
    morning.append(entry(at("2025-10-09 09:20"), "login_failed", outcome="denied", reason="bad_password"))
    morning.append(export(at("2025-10-09 09:40"), rows=120))
    ctx = flags.Context(calendar=CAL, tz=CST, need_to_know=NTK)
    assert flags.evaluate(morning, ctx) == {code: [] for code in flags.KIND_BY_CODE}


def test_every_denial_reason_the_app_logs_has_a_chinese_label():
    # The console shows REASON_ZH beside each denial; a code without a label
    # would reach the discipline office as a bare identifier.
    import pathlib
    import re

    root = pathlib.Path(flags.__file__).resolve().parent.parent
    logged = re.compile(
        r'(?:denial_reason\s*=\s*|g\.denial_reason = True, |refuse\(\s*|_refuse\(\s*task,\s*|ScopeRefused\(\s*)'
        r'"([a-z_]+)"(?:\s+if [^"\n]+ else "([a-z_]+)")?'
    )
    codes = {c for p in root.rglob("*.py") for m in logged.finditer(p.read_text(encoding="utf-8")) for c in m.groups() if c}
    assert len(codes) > 20  # the pattern still finds the app's refusals
    assert sorted(codes - set(flags.REASON_ZH)) == []
