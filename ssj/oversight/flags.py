"""Anomaly flags over access-log entries, as pure functions (SPEC §5 console; Art 12, 14, 17, 18).

The discipline office does not read every entry; it reads what stands
out. Each rule here takes entries as the dicts their canonical JSON body
decodes to (seq, at, username, roles, department, section, client,
action, objects, outcome, reason, task_id) and returns `Hit`s: who, when,
the entries behind it, and one Chinese sentence saying what happened.
Nothing here touches Flask or the database: the console
(`ssj.oversight.console`) selects the entries and builds the few facts a
rule needs from elsewhere (the working-day calendar, who may read which
task's sealed list), so every rule can be tested with explicit entries
and explicit times.

Thresholds are module constants so a bureau can see, and argue about,
exactly where a flag starts.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence
from zoneinfo import ZoneInfo

from ..auth.roles import ADMIN, DISCIPLINE, INSPECTOR, ROLE_NAMES, SECTION_HEAD, STAFF, SUPERVISOR
from ..workdays import Calendar

Entry = Mapping[str, Any]

# Repeated denials: this many refusals of one person within the window.
DENIAL_LIMIT = 5
DENIAL_WINDOW = dt.timedelta(hours=1)
# Bulk exports: one export or print of this many rows, or this many
# exports and prints by one person within the window.
BULK_ROWS = 500
EXPORT_LIMIT = 3
EXPORT_WINDOW = dt.timedelta(hours=1)
# Off hours (Asia/Shanghai): from NIGHT_START until NIGHT_END, and the
# whole of every non-working day of the calendar. Entries of one person
# less than VISIT_GAP apart are one visit, so a night's browsing is one flag.
NIGHT_START = dt.time(20, 0)
NIGHT_END = dt.time(7, 0)
VISIT_GAP = dt.timedelta(hours=1)

# Pages that serve sealed content (SPEC §4), {endpoint: Chinese name}. A
# refused request for one of them is someone trying to see a list they have
# no need to know. Never written by hand: each page declares itself at its
# route (`access.roles(..., sealed="抽中名单")`) and `create_app` registers
# the declarations here (`register_sealed_pages`), so a new sealed page is
# flagged from its first day. SEALED_ENDPOINTS and ENDPOINT_ZH are live
# views of that one registry.
SEALED_PAGES: dict[str, str] = {}
SEALED_ENDPOINTS = SEALED_PAGES.keys()
ENDPOINT_ZH: Mapping[str, str] = SEALED_PAGES


def register_sealed_pages(pages: Mapping[str, str]) -> None:
    """Replace the registry with the routes' own declarations (called by create_app)."""
    SEALED_PAGES.clear()
    SEALED_PAGES.update(pages)


SEALED_READ = "sealed_read:"
REDRAW_ACTIONS = ("redraw_requested", "redraw_approved", "redraw_declined")
# The publication steps (Art 13); whoever builds them names their actions so.
PUBLICATION_PREFIXES = ("publication", "publish", "unseal")
KEY_PREFIXES = ("keys_", "key_", "custody_")
INTEGRITY_ACTIONS = ("sealed_integrity_failure",)
ADMIN_ACTIONS = ("role_change", "user_created", "password_reset", "account_unlocked", "holiday_changed",
                 "access_grant_requested", "access_grant_approved", "access_grant_declined")
# A user edit that moves someone between sections or departments, or
# enables an account, changes who may read what even without a role change.
ADMIN_SCOPE_FIELDS = ("department_id", "section_id", "enabled")
# Actions named so are exports or prints (e.g. results_exported, archive_downloaded).
EXPORT_SUFFIXES = ("_export", "_exported", "_print", "_printed", "_downloaded")
# The office's own entries: logged like everyone's, but not "exports" of data.
OWN_PREFIX = "oversight_"
# The office's search; with an enterprise in its filters it asks "who looked at this enterprise?".
ENTERPRISE_SEARCH = "oversight_search"

PURPOSE_ZH = {
    "task_list": "查看抽中名单",
    "print": "打印抽中名单",
    "export": "导出抽中名单",
    "own_assignment": "查看本人的检查任务",
    "record": "查看检查记录",
    "record_target": "查看检查对象",
    "record_overview": "查看检查记录概况",
    "record_write": "填写检查记录",
    "report_print": "打印检查报告",
    "final_report_source": "汇总检查记录",
    "evidence_list": "查看证据清单",
    "evidence_download": "下载证据文件",
    "followup": "查看后续处理",
    "final_report": "查看总结报告",
    "publication": "公开时解封",
    "archive": "生成归档包",
}
REASON_ZH = {
    "role": "角色无权访问",
    "not_signed_in": "未登录",
    "session_expired": "登录已超时",
    "csrf": "防伪令牌无效",
    "bad_password": "密码错误",
    "unknown_user": "用户名不存在",
    "locked": "账号已锁定",
    "disabled": "账号已停用",
    "no_need_to_know": "无知悉权限",
    "not_own_section": "非本科室任务",
    "other_department": "非本部门任务",
    "not_own_assignment": "不是本人的检查任务",
    "no_such_assignment": "没有这项检查任务",
    "own_request": "审批自己提出的申请",
    "own_grant": "审批给自己的授权",
    "already_decided": "重复审批",
    "no_reason": "未写明理由",
    "not_supervisor": "不是本部门局领导",
    "not_supervisor_of_department": "不是本部门局领导",
    "same_person": "申请人自己批准公开",
    "wrong_password": "审批时密码错误",
    "before_publish_date": "未到公开日期",
    "records_missing": "检查记录未全部提交",
    "final_report_not_approved": "总结报告未审核",
    "commitment_mismatch": "封存结果与承诺值不符",
    "nothing_sealed": "没有封存的抽取结果",
    "drafter_cannot_approve": "起草人审批自己的报告",
    "own_submission": "审批自己提交的计划",
    "not_organizer_or_head": "不是组织人或科室负责人",
    "no_section": "账号没有所属科室",
    "other_section": "非本科室",
    "no_inspector_record": "账号未关联执法人员",
    "not_own_inspector": "不是本人的执法人员信息",
    "no_such_evidence": "没有这份证据",
    "no_such_followup": "没有这项后续处理",
    "not_owner": "下载他人的导出文件",
    "stale_version": "保存时他人已修改（版本冲突）",
    "submitted_record": "直接修改已提交的记录",
    "invalid_input": "填写有误",
    "rule": "不符合办理规则",
    "conflict": "与他人同时保存",
    "exception": "系统错误",
    "bad_share": "保管人份额不对",
}


@dataclass(frozen=True)
class Kind:
    code: str
    title: str
    explanation: str  # what the flag means and why it matters, for the office


KINDS = (
    Kind(
        "need_to_know",
        "越权查看保密名单",
        "公开前，抽中名单只有任务组织人、所在科室负责人、本部门局领导，以及被分配到该对象的执法检查人员（只看本人的那一户）可以查看（细则第三条、第十二条）。"
        "这里列出两类记录：一是不在上述范围的人读取了保密内容——系统本应拒绝，出现即说明权限设置或程序有漏洞，须立即核查；"
        "二是有人试图打开保密名单被系统拒绝。",
    ),
    Kind(
        "denials",
        "反复被拒绝",
        f"同一人（或同一未登录来源）在 {DENIAL_WINDOW.seconds // 3600} 小时内被系统拒绝 {DENIAL_LIMIT} 次以上：可能在试探权限、猜测密码，"
        "也可能只是账号权限设置不当。请结合拒绝原因判断。",
    ),
    Kind(
        "bulk_exports",
        "批量导出或打印",
        f"一次导出或打印 {BULK_ROWS} 行以上，或同一人 {EXPORT_WINDOW.seconds // 3600} 小时内导出、打印 {EXPORT_LIMIT} 次以上。"
        "名录和抽中名单不得随意复制传播（细则第十二条），大量或频繁的导出应有工作上的理由。",
    ),
    Kind(
        "off_hours",
        "非工作时间访问",
        f"晚上 {NIGHT_START:%H:%M} 至次日早上 {NIGHT_END:%H:%M}，以及周末和法定节假日（按工作日历，含调休）的访问。"
        "非工作时间的操作不一定有问题，但无人在旁时更容易发生越权或违规，值得抽查。",
    ),
    Kind(
        "redraws",
        "重新抽取及其原因",
        "每次申请作废抽取结果、重新抽取，以及局领导的批准或不同意，连同书面原因。"
        "反复重新抽取可能是在“挑结果”，请核对原因是否成立（细则第五条、第九条）。",
    ),
    Kind(
        "publication",
        "申请公开（解封）",
        "申请解封、公开抽查结果和审批的每一步（细则第十三条）。公开前名单保密，公开的时间和审批人应与规定一致。",
    ),
    Kind(
        "key_ops",
        "密钥操作和加密数据校验失败",
        "密钥轮换等密钥操作，以及保密数据未通过完整性校验（可能有人直接改动了数据库中的加密数据）。这些操作很少发生，每一次都应能说明原因。",
    ),
    Kind(
        "admin_changes",
        "系统管理员变更账号和角色",
        "系统管理员新建账号、变更角色、调整人员所在科室或启用账号、重置他人密码、解锁账号、修改节假日。"
        "管理员不能查看保密名单，但可以给人（包括自己）授予能看名单的角色，或重置他人密码后冒用其账号——谁来监督管理员，就看这里。",
    ),
    Kind(
        "enterprise_searches",
        "纪检监察室按企业查询",
        "纪检监察室每一次按统一社会信用代码查询访问日志，以及查询依据的立案核查编号。"
        "按企业查询只覆盖已公开的任务；未公开任务只能在局领导批准、仍在有效期内的立案核查下查询（细则第十二条、第十四条）。"
        "同一人短时间内查询大量企业，可能是在试探抽中名单，局领导应核实用途。",
    ),
    Kind(
        "outside_plan",
        "计划外的抽查轮次",
        "保存抽查任务时，该任务超出已批准年度计划规定的轮次，或不在计划安排的月份（细则第十八条：严禁未经批准擅自开展计划外检查）。"
        "请核对是否经过批准、理由是否成立。计划未覆盖的事项见监管看板“计划外抽查”。",
    ),
)
KIND_BY_CODE = {k.code: k for k in KINDS}


@dataclass(frozen=True)
class Hit:
    """One flagged event: one entry, or a burst or visit made of several."""

    kind: str
    who: str
    first_at: dt.datetime
    last_at: dt.datetime
    seqs: tuple[int, ...]
    summary: str
    username: Optional[str] = None  # None for an anonymous source
    action: Optional[str] = None  # set when every entry has this action


# --- reading entries ------------------------------------------------------------------


def when(entry: Entry) -> dt.datetime:
    """The entry's time as an aware UTC datetime (the body spells it ISO with a Z)."""
    # fromisoformat reads the Z (Python 3.11) and is many times faster than strptime,
    # which matters: a month of a bureau's log is hundreds of thousands of entries.
    return dt.datetime.fromisoformat(entry["at"]).astimezone(dt.timezone.utc)


def who(entry: Entry) -> str:
    """A person by username; an anonymous request by its client address."""
    if entry.get("username"):
        return entry["username"]
    return f"未登录（来源 {entry.get('client') or '未知'}）"


def objects(entry: Entry) -> Mapping[str, Any]:
    value = entry.get("objects")
    return value if isinstance(value, Mapping) else {}


def endpoint_of(entry: Entry) -> Optional[str]:
    """The endpoint of a generic entry ("read:x" / "change:x"), else None."""
    action = entry.get("action") or ""
    verb, _, rest = action.partition(":")
    if verb in ("read", "change") and rest:
        return rest
    return None


def task_of(entry: Entry) -> Optional[int]:
    """The task an entry concerns: its task_id, or a task_id in a generic entry's URL."""
    if isinstance(entry.get("task_id"), int):
        return entry["task_id"]
    args = objects(entry).get("args")
    value = args.get("task_id") if isinstance(args, Mapping) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _hit(kind: str, entries: Sequence[Entry], summary: str) -> Hit:
    actions = {e.get("action") for e in entries}
    return Hit(
        kind=kind,
        who=who(entries[0]),
        first_at=when(entries[0]),
        last_at=when(entries[-1]),
        seqs=tuple(e["seq"] for e in entries),
        summary=summary,
        username=entries[0].get("username") or None,
        action=actions.pop() if len(actions) == 1 else None,
    )


def _in_order(entries: Iterable[Entry]) -> list[Entry]:
    return sorted(entries, key=lambda e: (when(e), e["seq"]))


def bursts(
    entries: Iterable[Entry], limit: int, window: dt.timedelta, key: Callable[[Entry], str] = who
) -> list[list[Entry]]:
    """Runs of one key's entries where at least `limit` fall within some `window`.

    Every entry that is part of such a window is kept; kept entries less
    than `window` apart join one run, so a long spree is one flag, not many.
    """
    by_key: dict[str, list[Entry]] = defaultdict(list)
    for e in _in_order(entries):
        by_key[key(e)].append(e)
    runs = []
    for items in by_key.values():
        times = [when(e) for e in items]
        keep = [False] * len(items)
        start = 0
        for end in range(len(items)):
            while times[end] - times[start] > window:
                start += 1
            if end - start + 1 >= limit:
                for i in range(start, end + 1):
                    keep[i] = True
        run: list[Entry] = []
        for i, e in enumerate(items):
            if not keep[i]:
                continue
            if run and times[i] - when(run[-1]) > window:
                runs.append(run)
                run = []
            run.append(e)
        if run:
            runs.append(run)
    return sorted(runs, key=lambda r: (when(r[0]), r[0]["seq"]))


def _local(at: dt.datetime, tz: dt.tzinfo) -> str:
    return at.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def _span(first: dt.datetime, last: dt.datetime, tz: dt.tzinfo) -> str:
    a, b = first.astimezone(tz), last.astimezone(tz)
    if a.date() == b.date():
        return f"{a:%Y-%m-%d %H:%M}–{b:%H:%M}" if (a.hour, a.minute) != (b.hour, b.minute) else f"{a:%Y-%m-%d %H:%M}"
    return f"{a:%Y-%m-%d %H:%M} 至 {b:%Y-%m-%d %H:%M}"


def _positions(values) -> str:
    values = [v for v in (values or []) if isinstance(v, int)]
    if not values:
        return ""
    if len(values) > 6:
        return f"第 {values[0]}–{values[-1]} 号等 {len(values)} 个对象"
    return "第 " + "、".join(str(v) for v in values) + " 号对象"


def _roles(values) -> str:
    return "、".join(ROLE_NAMES.get(r, r) for r in (values or [])) or "无角色"


# --- 1. sealed reads outside need to know (SPEC §4) -------------------------------------


@dataclass(frozen=True)
class TaskFacts:
    """Who may read a task's whole sealed list: its organizer, its section's head, its department's supervisors."""

    organizer_id: int
    section: str  # section code, as entries record it
    department: str  # department code
    published_at: Optional[dt.datetime] = None  # from then on the results are public (Art 13)


@dataclass(frozen=True)
class Place:
    """An inspector's place on a team: they may read the target at `position` of `attempt_id`."""

    attempt_id: int
    position: int
    user_id: int  # the inspector's own account
    until: Optional[dt.datetime] = None  # when replaced out (recusal) or voided (redraw); None while active


@dataclass
class NeedToKnow:
    """The facts the need-to-know rule needs, read from the database by the console."""

    tasks: dict[int, TaskFacts] = field(default_factory=dict)
    places: dict[int, list[Place]] = field(default_factory=dict)  # by task id
    # {endpoint: Chinese name} of the sealed pages; the routes' declarations by default.
    sealed_pages: Mapping[str, str] = field(default_factory=lambda: SEALED_PAGES)


# Sealed kinds whose record id starts with the draw attempt's id: the result,
# pools and nonce are the attempt's own ("17"), an assignment is
# "attempt:position:inspector", a recusal "attempt:number". Other kinds
# (inspection records, follow-ups, reports…) are numbered by task.
_ATTEMPT_KINDS = ("result", "pools", "nonce", "assignment", "replacement")


def _attempt_of(entry: Entry) -> Optional[int]:
    """Which draw attempt a sealed read was of, when its record id says so."""
    o = objects(entry)
    if o.get("kind") not in _ATTEMPT_KINDS:
        return None
    head = str(o.get("record", "")).split(":", 1)[0]
    return int(head) if head.isdigit() else None


def why_outside(entry: Entry, ntk: NeedToKnow) -> Optional[str]:
    """Why this served sealed read was outside need to know (Chinese), or None if it was within.

    Judged by the roles, section and department the entry recorded at the
    time of the read, the way `ceremony.policy` decides (nothing is secret
    once the task's results are published): the admin and
    discipline roles veto; then the organizer (in the task's section), the
    head of its section, a supervisor of its department; then an
    inspector whose place covers every position read, at the time read.
    """
    task_id = entry.get("task_id")
    facts = ntk.tasks.get(task_id) if isinstance(task_id, int) else None
    if facts is None:
        return f"记录中的任务 {task_id} 在系统中不存在，无法确认读取人有知悉权限"
    if facts.published_at is not None and when(entry) >= facts.published_at:
        return None  # need to know ends with publication
    roles = set(entry.get("roles") or ())
    vetoed = roles & {ADMIN, DISCIPLINE}
    if vetoed:
        return f"读取人持有“{_roles(sorted(vetoed))}”角色，这类角色一律不得查看保密名单"
    section, department = entry.get("section"), entry.get("department")
    user_id = entry.get("user_id")
    if user_id == facts.organizer_id and section == facts.section and roles & {STAFF, SECTION_HEAD}:
        return None
    if SECTION_HEAD in roles and section == facts.section:
        return None
    if SUPERVISOR in roles and department == facts.department:
        return None
    positions = [p for p in objects(entry).get("positions") or [] if isinstance(p, int)]
    if INSPECTOR in roles and positions and user_id is not None:
        attempt = _attempt_of(entry)
        at = when(entry)
        places = [
            pl for pl in ntk.places.get(task_id, [])
            if pl.user_id == user_id and (attempt is None or pl.attempt_id == attempt)
            and (pl.until is None or at < pl.until)
        ]
        covered = {pl.position for pl in places}
        if all(p in covered for p in positions):
            return None
        missing = [p for p in positions if p not in covered]
        return f"读取人不是{_positions(missing)}的检查人员（或当时已被替换）"
    return "读取人既不是该任务的组织人、所在科室负责人或本部门局领导，也不是被分配到这些对象的检查人员"


def is_sealed_attempt(entry: Entry, sealed_pages: Mapping[str, str] = SEALED_PAGES) -> bool:
    """A refused request for a page with sealed content."""
    return entry.get("outcome") == "denied" and endpoint_of(entry) in sealed_pages


def outside_need_to_know(entries: Iterable[Entry], ntk: NeedToKnow) -> list[Hit]:
    hits = []
    for e in _in_order(entries):
        action = e.get("action") or ""
        if action.startswith(SEALED_READ) and e.get("outcome") == "ok":
            reason = why_outside(e, ntk)
            if reason is None:
                continue
            purpose = PURPOSE_ZH.get(action[len(SEALED_READ):], action[len(SEALED_READ):])
            where = _positions(objects(e).get("positions"))
            hits.append(_hit("need_to_know", [e], f"读取了保密内容（{purpose}，任务 {e.get('task_id')}{'，' + where if where else ''}）：{reason}。"))
        elif is_sealed_attempt(e, ntk.sealed_pages):
            page = ntk.sealed_pages.get(endpoint_of(e), endpoint_of(e))
            task = task_of(e)
            reason = REASON_ZH.get(e.get("reason") or "", e.get("reason") or "未说明")
            hits.append(_hit(
                "need_to_know", [e],
                f"试图打开{page}{f'（任务 {task}）' if task else ''}，被系统拒绝（{reason}）。",
            ))
    return hits


# --- 2. repeated denials ---------------------------------------------------------------------


def repeated_denials(entries: Iterable[Entry]) -> list[Hit]:
    denied = [e for e in entries if e.get("outcome") == "denied"]
    hits = []
    for run in bursts(denied, DENIAL_LIMIT, DENIAL_WINDOW):
        reasons = Counter(REASON_ZH.get(e.get("reason") or "", e.get("reason") or "未说明") for e in run)
        listed = "、".join(f"{r} {n} 次" for r, n in reasons.most_common())
        hits.append(_hit("denials", run, f"{len(run)} 次被拒绝（{listed}）。"))
    return hits


# --- 3. bulk exports and prints ------------------------------------------------------------


def export_rows(entry: Entry) -> Optional[int]:
    """Rows an export or print carried, or None if the entry is not one.

    Directory exports record `rows`; sealed prints and exports record the
    positions they showed. The office's own exports (of signatures, not
    data) are not counted.
    """
    action = entry.get("action") or ""
    if entry.get("outcome") != "ok" or action.startswith(OWN_PREFIX):
        return None
    o = objects(entry)
    if action.startswith(SEALED_READ):
        if action.endswith(("export", "print")):  # the list's print and export, a report's print
            return len(o.get("positions") or [])
        return None
    if action == "export" or action.startswith("export:") or action.endswith(EXPORT_SUFFIXES):
        rows = o.get("rows")
        return rows if isinstance(rows, int) and not isinstance(rows, bool) else 0
    return None


def _export_label(entry: Entry) -> str:
    action = entry.get("action") or ""
    if action.startswith(SEALED_READ):
        return f"{PURPOSE_ZH.get(action[len(SEALED_READ):], action)}（任务 {entry.get('task_id')}）"
    kind = objects(entry).get("kind")
    return f"导出 {kind}" if kind else action


def bulk_exports(entries: Iterable[Entry]) -> list[Hit]:
    exports = [e for e in entries if export_rows(e) is not None]
    hits = []
    for e in _in_order(exports):
        rows = export_rows(e)
        if rows >= BULK_ROWS:
            hits.append(_hit("bulk_exports", [e], f"一次{_export_label(e)}共 {rows} 行。"))
    for run in bursts(exports, EXPORT_LIMIT, EXPORT_WINDOW):
        what = "、".join(f"{label} {n} 次" for label, n in Counter(_export_label(e) for e in run).most_common())
        hits.append(_hit("bulk_exports", run, f"短时间内导出或打印 {len(run)} 次（{what}），共 {sum(export_rows(e) for e in run)} 行。"))
    return sorted(hits, key=lambda h: (h.first_at, h.seqs))


# --- 4. night, weekends and holidays ---------------------------------------------------------


def off_hours_reason(at: dt.datetime, calendar: Calendar, tz: dt.tzinfo) -> Optional[str]:
    """Why `at` is outside working hours ("夜间", "周末", "国庆节、夜间"), or None within them."""
    if at.tzinfo is None:
        raise ValueError("at must be timezone-aware")
    local = at.astimezone(tz)
    parts = []
    day = calendar.is_working_day(local.date())
    if not day.working:
        parts.append(day.label)
    t = local.time()
    if t >= NIGHT_START or t < NIGHT_END:
        parts.append("夜间")
    return "、".join(parts) or None


def off_hours_windows(
    first_day: dt.date, last_day: dt.date, calendar: Calendar, tz: dt.tzinfo
) -> list[tuple[dt.datetime, dt.datetime]]:
    """The off-hours periods of the local days first_day..last_day as UTC [start, end) pairs.

    Exactly the instants `off_hours_reason` flags, merged where they touch,
    so the console can ask the database for those entries only.
    """
    spans: list[tuple[dt.datetime, dt.datetime]] = []

    def add(start: dt.datetime, end: dt.datetime) -> None:
        if start >= end:
            return
        if spans and spans[-1][1] >= start:
            spans[-1] = (spans[-1][0], max(spans[-1][1], end))
        else:
            spans.append((start, end))

    day = first_day
    while day <= last_day:
        midnight = dt.datetime.combine(day, dt.time(0), tz)
        next_midnight = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tz)
        if not calendar.is_working_day(day).working:
            add(midnight, next_midnight)
        else:
            add(midnight, dt.datetime.combine(day, NIGHT_END, tz))
            add(dt.datetime.combine(day, NIGHT_START, tz), next_midnight)
        day += dt.timedelta(days=1)
    return [(a.astimezone(dt.timezone.utc), b.astimezone(dt.timezone.utc)) for a, b in spans]


def calendar_warnings(first_day: dt.date, last_day: dt.date, calendar: Calendar) -> list[str]:
    """The calendar's warnings for the years of the range: holidays there may be missing."""
    return [w for y in range(first_day.year, last_day.year + 1) if (w := calendar.warning_for(y))]


def off_hours(entries: Iterable[Entry], calendar: Calendar, tz: dt.tzinfo) -> list[Hit]:
    flagged = []
    for e in entries:
        if not e.get("username"):
            continue  # anonymous requests are no one's access; their refusals count as denials
        reason = off_hours_reason(when(e), calendar, tz)
        if reason:
            flagged.append((e, reason))
    reasons = {e["seq"]: r for e, r in flagged}
    by_person: dict[str, list[Entry]] = defaultdict(list)
    for e in _in_order(e for e, _ in flagged):
        by_person[who(e)].append(e)
    hits = []
    for items in by_person.values():
        visit: list[Entry] = []
        for e in items + [None]:
            if visit and (e is None or when(e) - when(visit[-1]) > VISIT_GAP):
                kinds = list(dict.fromkeys(part for v in visit for part in reasons[v["seq"]].split("、")))
                hits.append(_hit(
                    "off_hours", visit,
                    f"{_span(when(visit[0]), when(visit[-1]), tz)}（{'、'.join(kinds)}）访问 {len(visit)} 次。",
                ))
                visit = []
            if e is not None:
                visit.append(e)
    return sorted(hits, key=lambda h: (h.first_at, h.seqs))


# --- 5–8. events the office reviews one by one ----------------------------------------------


def redraws(entries: Iterable[Entry]) -> list[Hit]:
    hits = []
    for e in _in_order(entries):
        action = e.get("action")
        if action not in REDRAW_ACTIONS:
            continue
        o = objects(e)
        which = f"任务 {o.get('task', e.get('task_id'))} 第 {o.get('attempt', '?')} 次抽取"
        if action == "redraw_requested":
            text = f"申请作废{which}并重新抽取。原因：{e.get('reason') or '（未填写）'}"
        elif action == "redraw_approved":
            note = f"；审批意见：{e['reason']}" if e.get("reason") else ""
            text = f"批准作废{which}（申请人 {o.get('requested_by', '?')}，原因：{o.get('request') or '（未填写）'}{note}）。"
        else:
            text = f"不同意重新抽取{which}（申请人 {o.get('requested_by', '?')}，原因：{o.get('request') or '（未填写）'}；意见：{e.get('reason') or '（未填写）'}）。"
        hits.append(_hit("redraws", [e], text))
    return hits


def publication(entries: Iterable[Entry]) -> list[Hit]:
    hits = []
    for e in _in_order(entries):
        action = e.get("action") or ""
        if not action.startswith(PUBLICATION_PREFIXES):
            continue
        outcome = "" if e.get("outcome") == "ok" else f"（结果：{e.get('outcome')}）"
        reason = f"说明：{e['reason']}" if e.get("reason") else ""
        hits.append(_hit("publication", [e], f"{action}：任务 {task_of(e) or '?'}{outcome}。{reason}"))
    return hits


def key_operations(entries: Iterable[Entry]) -> list[Hit]:
    hits = []
    for e in _in_order(entries):
        action = e.get("action") or ""
        o = objects(e)
        if action == "keys_rotated":
            text = f"轮换密钥加密密钥：重新封装 {o.get('rewrapped', '?')} 个任务数据密钥，新密钥编号 {o.get('new_kek_id', '?')}。"
        elif action.startswith(KEY_PREFIXES):
            text = f"密钥操作 {action}。"
        elif action in INTEGRITY_ACTIONS:
            text = f"保密数据未通过完整性校验（页面 {o.get('endpoint', '?')}，任务 {e.get('task_id') or '?'}）：加密数据可能被改动或移动，须核查数据库和备份。"
        else:
            continue
        hits.append(_hit("key_ops", [e], text))
    return hits


def admin_changes(entries: Iterable[Entry]) -> list[Hit]:
    hits = []
    for e in _in_order(entries):
        action = e.get("action") or ""
        o = objects(e)
        subject = o.get("username") or (f"用户 {o['user']}" if "user" in o else "")
        if action == "role_change":
            text = f"把 {subject} 的角色由“{_roles(o.get('before'))}”改为“{_roles(o.get('after'))}”。"
        elif action == "user_created":
            text = f"新建账号 {subject}，角色“{_roles(o.get('roles'))}”。"
        elif action == "password_reset":
            text = f"重置了 {subject} 的密码。"
        elif action == "access_grant_requested":
            what = "重置密码" if o.get("kind") == "password" else "可查看保密名单的角色或科室"
            text = f"为 {subject} 申请{what}，待局领导批准。"
        elif action in ("access_grant_approved", "access_grant_declined"):
            verdict = "批准" if action == "access_grant_approved" else "不同意"
            text = f"{verdict}了给 {subject} 的授权（申请人 {o.get('requested_by', '?')}）。"
        elif action == "account_unlocked":
            text = f"解锁了 {subject} 的账号。"
        elif action == "holiday_changed":
            detail = "，".join(f"{k}：{v}" for k, v in sorted(o.items()) if not isinstance(v, (dict, list)))
            text = f"修改了节假日设置（{detail}）。" if detail else "修改了节假日设置。"
        elif action == "user_updated":
            changes = o.get("changes") if isinstance(o.get("changes"), Mapping) else {}
            moved = [k for k in ADMIN_SCOPE_FIELDS if k in changes]
            if not moved:
                continue
            names = {"department_id": "所在部门", "section_id": "所在科室", "enabled": "账号启用状态"}
            text = f"修改了 {subject} 的{'、'.join(names[k] for k in moved)}。"
        else:
            continue
        hits.append(_hit("admin_changes", [e], text))
    return hits


def enterprise_searches(entries: Iterable[Entry]) -> list[Hit]:
    hits = []
    for e in _in_order(entries):
        if e.get("action") != ENTERPRISE_SEARCH:
            continue
        o = objects(e)
        asked = o.get("filters") if isinstance(o.get("filters"), Mapping) else {}
        ref = asked.get("enterprise_ref")
        if not isinstance(ref, str):
            continue
        why = f"依据立案核查第 {o['investigation']} 号（含未公开任务）" if o.get("investigation") else "仅已公开任务"
        hits.append(_hit(
            "enterprise_searches", [e],
            f"按企业查询（企业引用 {ref[:12]}…，{why}），找到 {o.get('results', '?')} 条记录。",
        ))
    return hits


PLAN_DEPARTURE_ZH = {"beyond_rounds": "超出计划轮次", "outside_months": "不在计划月份"}
TASK_SAVE_ACTIONS = ("task_created", "task_updated")


def outside_plan(entries: Iterable[Entry]) -> list[Hit]:
    """Task saves the planner recorded as a round beyond the plan or outside its months (Art 18)."""
    hits = []
    for e in _in_order(entries):
        o = objects(e)
        codes = o.get("art18") if e.get("action") in TASK_SAVE_ACTIONS else None
        if not codes or not isinstance(codes, list):
            continue
        what = "、".join(PLAN_DEPARTURE_ZH.get(str(c), str(c)) for c in codes)
        hits.append(_hit("outside_plan", [e], f"第 {o.get('task')} 号任务{'新建' if e.get('action') == 'task_created' else '修改'}时{what}。"))
    return hits


# --- all of them --------------------------------------------------------------------------


@dataclass
class Context:
    """What the rules need besides the entries."""

    calendar: Calendar
    tz: dt.tzinfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    need_to_know: NeedToKnow = field(default_factory=NeedToKnow)


RULES: dict[str, Callable[[Iterable[Entry], Context], list[Hit]]] = {
    "need_to_know": lambda entries, ctx: outside_need_to_know(entries, ctx.need_to_know),
    "denials": lambda entries, ctx: repeated_denials(entries),
    "bulk_exports": lambda entries, ctx: bulk_exports(entries),
    "off_hours": lambda entries, ctx: off_hours(entries, ctx.calendar, ctx.tz),
    "redraws": lambda entries, ctx: redraws(entries),
    "publication": lambda entries, ctx: publication(entries),
    "key_ops": lambda entries, ctx: key_operations(entries),
    "admin_changes": lambda entries, ctx: admin_changes(entries),
    "enterprise_searches": lambda entries, ctx: enterprise_searches(entries),
    "outside_plan": lambda entries, ctx: outside_plan(entries),
}

def evaluate(entries: Sequence[Entry], ctx: Context) -> dict[str, list[Hit]]:
    """Every rule over the same entries (tests and small ranges; the console narrows per rule)."""
    return {code: RULES[code](entries, ctx) for code in KIND_BY_CODE}
