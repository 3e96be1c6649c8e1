"""The discipline office's console: searching the access log, flags, verification (SPEC §5; Art 9, 14, 17, 18).

Art 17 and 18 hold the people who run inspections to account; Art 14
punishes abuse of office. The office does that from the access log: who
did what, when, to which task and which enterprise. This module reads
the log for the console's pages. It never decrypts anything: an
enterprise is found by the HMAC of its credit code (`audit.sealed_ref`),
the same value every read wrote, so the office can ask "who looked at
this enterprise?" without the log or the console ever holding the drawn
list.

An enterprise search must not rebuild a sealed list (SPEC §4, §5): it
covers entries about no task and entries of published tasks, and reaches
a still-sealed task only under an approved, unexpired investigation
立案核查 naming that enterprise (`investigations`). Its answer for an
enterprise that a sealed task drew is therefore the same as for one no
task drew. References are per task (`HMAC(task_id|code)`); entries
written before that keep the old form `HMAC(code)`, found the same way
and only for the same tasks. Entries of sealed tasks show no reference
at all (an old-form one could be matched by eye against the same
enterprise's old directory entries).

Each discipline officer reads the log of their own department only
(`Scope`): entries whose actor belonged to it when they were written;
entries of nobody signed in go to the office of the hosting bureau.

Searches run on the copied columns (indexed) and, for the enterprise and
for a task named only in a URL, on the hashed body text; both are
checked by `audit verify`, so an edit made to hide an entry from a
search shows up as tampering.
"""
from __future__ import annotations

import base64
import datetime as dt
import json
import os
import re
from dataclasses import dataclass, field
from math import ceil
from typing import Any, Iterable, Mapping, Optional
from zoneinfo import ZoneInfo

from cryptography.exceptions import InvalidTag
from sqlalchemy import and_, func, or_, select

from .. import clock
from .. import creditcode, listing, suites
from ..audit import chain, service as log
from ..audit import verify as log_verify
from ..calendar_admin.service import current_calendar
from ..extensions import db
from ..models import (
    AccessLogEntry,
    Assignment,
    AuditCheckpoint,
    Department,
    DrawAttempt,
    Inspector,
    Investigation,
    PublishedTask,
    Section,
    Task,
    User,
)
from ..models.draws import Recusal
from ..workdays import Calendar
from . import flags, labels

PER_PAGE = 50
MAX_FLAG_DAYS = 366
DEFAULT_FLAG_DAYS = 30
MAX_SHOWN_HITS = 200  # per kind of flag on one page
PRINT_RECENT = 30  # checkpoints listed on the printed sheet besides the latest
_HEX64 = re.compile(r"[0-9a-f]{64}")
_CHUNK = 500  # ids per IN (...) list, inside every backend's parameter limit
_WINDOWS_PER_QUERY = 60  # OR-ed time ranges per statement, well inside SQLite's expression depth
_REFS_PER_QUERY = 60  # OR-ed per-task references per statement, for the same reason
SEALED_REF_SHOWN = "（未公开任务中的企业引用，不予显示）"

OUTCOMES = {"ok": "成功", "denied": "被拒绝", "refused": "修改被退回", "not_found": "对象不存在", "error": "出错"}
ACTION_LABELS = {
    "login": "登录",
    "logout": "退出登录",
    "login_failed": "登录失败",
    "account_locked": "账号被锁定",
    "password_changed": "修改本人密码",
    "password_change_failed": "修改本人密码失败",
    "export": "导出名录",
    "import": "导入名录",
    "draw_pools_frozen": "摇号：冻结名单",
    "draw_committed": "摇号：公示随机数承诺",
    "draw_witness_added": "摇号：录入见证人点数",
    "draw_art16_read": "摇号：系统读取其他任务结果（第十六条避免重复检查）",
    "draw_sealed": "摇号：抽取并封存",
    "draw_failed": "摇号：抽取未完成",
    "redraw_requested": "申请重新抽取",
    "redraw_approved": "批准重新抽取",
    "redraw_declined": "不同意重新抽取",
    "recusal": "回避替换",
    "sealed_integrity_failure": "保密数据校验失败",
    "role_change": "变更角色",
    "user_created": "新建账号",
    "user_updated": "修改账号",
    "password_reset": "重置他人密码",
    "account_unlocked": "解锁账号",
    "sessions_revoked": "强制下线",
    "department_created": "新建部门",
    "section_created": "新建科室",
    "section_renamed": "科室改名",
    "holiday_changed": "修改节假日",
    "keys_rotated": "密钥轮换",
    "keys_split": "密钥分割给保管人（封存模式）",
    "custody_share_entered": "保管人输入份额",
    "custody_share_rejected": "保管人份额被拒绝",
    "custody_unsealed": "系统解封",
    "backup_created": "制作备份",
    "backup_restored": "从备份恢复",
    "oversight_search": "纪检：查询访问日志",
    "oversight_entry_viewed": "纪检：查看日志记录",
    "oversight_flags_viewed": "纪检：查看异常提示",
    "oversight_verified": "纪检：核验访问日志",
    "oversight_verify_refused": "纪检：核验文件无法使用",
    "oversight_checkpoint_signed": "纪检：签名检查点",
    "oversight_checkpoints_exported": "纪检：导出检查点",
    "oversight_checkpoints_printed": "纪检：打印检查点",
    "investigation_opened": "纪检：申请立案核查",
    "investigation_approved": "批准立案核查",
    "investigation_declined": "不同意立案核查",
    "investigation_closed": "纪检：结束立案核查",
    "investigations_viewed": "查看立案核查",
    "access_grant_requested": "申请授予保密名单权限",
    "access_grant_approved": "批准授予保密名单权限",
    "access_grant_declined": "不同意授予保密名单权限",
}


def zone() -> ZoneInfo:
    return clock.zone()



def calendar() -> Calendar:
    """The working-day calendar with the holidays the administrator entered (Art 9's working days)."""
    return current_calendar()


def action_label(action: str) -> str:
    """A Chinese name for an action; generic entries name the page they were for."""
    if action in ACTION_LABELS:
        return ACTION_LABELS[action]
    if action in labels.ACTION_LABELS:
        return labels.ACTION_LABELS[action]
    if action.startswith(flags.SEALED_READ):
        purpose = action[len(flags.SEALED_READ):]
        return f"读取保密内容：{flags.PURPOSE_ZH.get(purpose, '其他')}"
    verb, _, endpoint = action.partition(":")
    if verb == "read":
        return f"打开页面：{labels.endpoint_label(endpoint)}"
    if verb == "change":
        return f"提交操作：{labels.endpoint_label(endpoint)}"
    if verb == "refused":
        return f"修改被退回：{labels.endpoint_label(endpoint)}"
    return "其他操作"


# --- whose log: the officer's own department (SPEC §5) ------------------------------------------


@dataclass(frozen=True)
class Scope:
    """The part of the log one discipline officer may read."""

    department_id: Optional[int]
    department: Optional[str]  # its code, as entries name it
    host: bool  # the bureau hosting the system also sees entries of nobody signed in (logins, CLI)

    def condition(self):
        mine = AccessLogEntry.department == self.department
        return or_(mine, AccessLogEntry.department.is_(None)) if self.host else mine

    def allows(self, department: Optional[str]) -> bool:
        return department == self.department if department is not None else self.host


def host_department_id() -> Optional[int]:
    """The hosting bureau: the first department created (init and the demo create the bureau first)."""
    return db.session.scalar(select(func.min(Department.id)))


def scope_of(user) -> Scope:
    department = user.department
    return Scope(
        department_id=department.id if department else None,
        department=department.code if department else None,
        host=department is not None and department.id == host_department_id(),
    )


# --- the enterprise in a URL ---------------------------------------------------------------------


def _token_cipher():
    # AES-256-GCM, or SM4-GCM under an HMAC-SM3-derived key on the 商用密码 suite (ssj/suites.py).
    keys = log.keyring()
    key = suites.mac(keys.crypto_suite, keys.reference_key, b"ssj console enterprise in a URL")
    return suites.aead(keys.crypto_suite, key[: suites.KEY_BYTES[keys.crypto_suite]])


def enterprise_token(code: str) -> str:
    """The credit code sealed for the search URL: paging and links carry this, never the code.

    Encrypted (not hashed) because the search must compute each task's
    reference from the code; only this server can open it.
    """
    nonce = os.urandom(12)
    sealed = _token_cipher().encrypt(nonce, code.encode("utf-8"), b"console-enterprise")
    return base64.urlsafe_b64encode(nonce + sealed).decode("ascii").rstrip("=")


def enterprise_of(token: str) -> Optional[str]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        code = _token_cipher().decrypt(raw[:12], raw[12:], b"console-enterprise").decode("utf-8")
    except (ValueError, InvalidTag, UnicodeDecodeError):
        return None
    return code if not creditcode.problem(code) else None


# --- filters ----------------------------------------------------------------------------------


def parse_local(text: str, *, end: bool = False) -> Optional[dt.datetime]:
    """A local date or date-and-time as typed (2026-03-02, 2026-03-02T14:05, 2026-03-02 14:05) → aware UTC.

    A bare date as the end of a range means the end of that day. ValueError if unreadable.
    """
    text = text.strip()
    if not text:
        return None
    for fmt in ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"):
        try:
            value = dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
        if fmt == "%Y-%m-%d" and end:
            value += dt.timedelta(days=1)
        elif end:
            value += dt.timedelta(minutes=1)  # "until 14:05" includes 14:05:59
        return value.replace(tzinfo=zone()).astimezone(dt.timezone.utc)
    raise ValueError(text)


def iso(value: dt.datetime) -> str:
    """UTC time spelled as log entries spell it."""
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def local_text(value: dt.datetime) -> str:
    """A UTC time as the search form spells it (local, to the minute)."""
    return value.astimezone(zone()).strftime("%Y-%m-%dT%H:%M")


@dataclass
class Filters:
    """What the office asked; `args()` is what goes in a URL (never a credit code in clear)."""

    user: str = ""
    since: str = ""
    until: str = ""
    task: str = ""
    action: str = ""
    outcome: str = ""
    ent: str = ""  # the credit code, sealed by `enterprise_token`
    errors: dict[str, str] = field(default_factory=dict)
    # parsed
    since_at: Optional[dt.datetime] = None
    until_at: Optional[dt.datetime] = None
    task_id: Optional[int] = None
    code: str = ""  # the credit code the search is about (in memory only)

    FIELDS = ("user", "since", "until", "task", "action", "outcome", "ent")

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> "Filters":
        f = cls(**{name: (args.get(name) or "").strip() for name in cls.FIELDS})
        f.validate()
        return f

    @classmethod
    def from_form(cls, form: Mapping[str, str]) -> "Filters":
        """The posted search form: a typed credit code becomes its HMAC here and goes no further."""
        f = cls.from_args(form)
        code = creditcode.normalise(form.get("enterprise") or "")
        if code:
            problem = creditcode.problem(code)
            if problem:
                f.errors["enterprise"] = f"{problem}。请核对营业执照上的统一社会信用代码后重新输入（18 位，字母大写）。"
            else:
                f.code, f.ent = code, enterprise_token(code)
                f.errors.pop("ent", None)
        return f

    def validate(self) -> None:
        try:
            self.since_at = parse_local(self.since)
        except ValueError:
            self.errors["since"] = "开始时间的格式应为“2026-03-02”或“2026-03-02 08:30”。"
        try:
            self.until_at = parse_local(self.until, end=True)
        except ValueError:
            self.errors["until"] = "结束时间的格式应为“2026-03-02”或“2026-03-02 18:00”。"
        if self.since_at and self.until_at and self.since_at >= self.until_at:
            self.errors["until"] = "结束时间应晚于开始时间，请调整时间范围。"
        if self.task:
            if self.task.isdigit() and int(self.task) > 0:
                self.task_id = int(self.task)
            else:
                self.errors["task"] = "任务编号应为正整数（见抽查任务页面上的“编号”）。"
        if self.outcome and self.outcome not in OUTCOMES:
            self.errors["outcome"] = "请从列表中选择结果。"
        if self.ent:
            self.code = enterprise_of(self.ent) or ""
            if not self.code:
                self.errors["ent"] = "企业筛选条件已损坏，请重新输入统一社会信用代码。"
        if len(self.action) > 64:
            self.errors["action"] = "动作名称最多 64 个字符。"
        if len(self.user) > 64:
            self.errors["user"] = "用户名最多 64 个字符。"

    def args(self, drop: tuple[str, ...] = (), **extra) -> dict[str, str]:
        out = {name: getattr(self, name) for name in self.FIELDS if getattr(self, name) and name not in drop}
        out.update({k: str(v) for k, v in extra.items() if v})
        return out

    def used(self) -> list[str]:
        return [name for name in self.FIELDS if getattr(self, name)]

    def logged(self) -> dict[str, Any]:
        """The filters as they go into the office's own log entry: the enterprise only by HMAC."""
        out: dict[str, Any] = {}
        if self.user:
            out["user"] = self.user
        if self.since_at:
            out["since"] = iso(self.since_at)
        if self.until_at:
            out["until"] = iso(self.until_at)
        if self.task_id:
            out["task"] = self.task_id
        if self.action:
            out["action"] = self.action
        if self.outcome:
            out["outcome"] = self.outcome
        if self.code:
            # The task-free reference: unrelated to any task's, so the office's
            # own entries never link to a sealed read.
            out["enterprise_ref"] = log.sealed_ref(self.code, task_id=None)
        return out


def _person(text: str) -> list[str]:
    """Usernames meant by what was typed: the username itself, or a display name."""
    names = [text]
    names += db.session.execute(select(User.username).where(User.display_name == text)).scalars().all()
    return sorted(set(names))


def _task_condition(task_id: int):
    # Generic entries (e.g. a refused /tasks/5/list) carry the task only in
    # their URL arguments: {"args":{"task_id":5}} in the hashed body.
    body = AccessLogEntry.body
    return or_(
        AccessLogEntry.task_id == task_id,
        and_(
            AccessLogEntry.task_id.is_(None),
            or_(body.like(f'%"task_id":{task_id},%'), body.like(f'%"task_id":{task_id}}}%')),
        ),
    )


def conditions(f: Filters, scope: Scope) -> list:
    """Conditions on the indexed columns (and a task named in a URL); the enterprise is `enterprise_matches`."""
    out = [scope.condition()]
    if f.user:
        out.append(AccessLogEntry.username.in_(_person(f.user)))
    if f.since_at:
        out.append(AccessLogEntry.at >= f.since_at)
    if f.until_at:
        out.append(AccessLogEntry.at < f.until_at)
    if f.task_id:
        out.append(_task_condition(f.task_id))
    if f.action:
        # A prefix finds a family: "sealed_read" every sealed read, "read:ceremony" every ceremony page.
        # Actions are all lower case; lowering what was typed keeps "Read:" finding the same entries on
        # PostgreSQL, whose LIKE is case-sensitive, as on SQLite, whose LIKE ignores ASCII case.
        out.append(AccessLogEntry.action.startswith(f.action.lower(), autoescape=True))
    if f.outcome:
        out.append(AccessLogEntry.outcome == f.outcome)
    return out


def published_task_ids() -> set[int]:
    return set(db.session.execute(select(PublishedTask.task_id)).scalars())


def active_investigation(code: str, scope: Scope, now: Optional[dt.datetime] = None) -> Optional[Investigation]:
    """The approved, unexpired investigation of the officer's department naming this enterprise, if any."""
    now = now or clock.now()
    for inv in db.session.execute(
        select(Investigation)
        .where(Investigation.department_id == scope.department_id, Investigation.state == "approved",
               Investigation.expires_at > now)
        .order_by(Investigation.id)
    ).scalars():
        if code in json.loads(inv.codes_json):
            return inv
    return None


@dataclass
class EnterpriseScope:
    """Which tasks an enterprise search reaches, and the references it looks for."""

    tasks: set[int]  # published tasks, and under an investigation every task
    investigation: Optional[Investigation]
    refs: set[str] = field(default_factory=set)  # every reference matched, for marking rows


def enterprise_scope(code: str, scope: Scope) -> EnterpriseScope:
    inv = active_investigation(code, scope)
    tasks = published_task_ids()
    if inv is not None:
        tasks |= set(db.session.execute(select(Task.id)).scalars())
    return EnterpriseScope(tasks, inv)


def enterprise_matches(code: str, where: list, es: EnterpriseScope) -> dict[int, int]:
    """Entries (row id → seq) about this enterprise within `es.tasks` or about no task.

    Nothing of a task outside `es.tasks` is even compared, so an enterprise
    a sealed task drew gets exactly the answer of one no task drew.
    """
    body = AccessLogEntry.body
    legacy, free = log.legacy_ref(code), log.sealed_ref(code, task_id=None)
    es.refs |= {legacy, free}
    out: dict[int, int] = {}
    # The task-free form (directory pages) and the old form (any entry before
    # references were per task): a JSON string of 64 hex digits matches nothing else.
    for row_id, seq, text in db.session.execute(
        select(AccessLogEntry.id, AccessLogEntry.seq, AccessLogEntry.body)
        .where(*where, or_(body.like(f'%"{legacy}"%'), body.like(f'%"{free}"%')))
    ).all():
        try:
            entry_body = json.loads(text)
        except ValueError:
            continue
        task = flags.task_of(entry_body) if isinstance(entry_body, dict) else None
        if task is None or task in es.tasks:
            out[row_id] = seq
    # Per-task references sit only in entries whose task_id column names the
    # task (no route has both a task and a target in its URL).
    tasks = sorted(es.tasks)
    for i in range(0, len(tasks), _REFS_PER_QUERY):
        chunk = tasks[i : i + _REFS_PER_QUERY]
        refs = [log.sealed_ref(code, task_id=t) for t in chunk]
        es.refs |= set(refs)
        for row_id, seq in db.session.execute(
            select(AccessLogEntry.id, AccessLogEntry.seq)
            .where(*where, AccessLogEntry.task_id.in_(chunk), or_(*(body.like(f'%"{r}"%') for r in refs)))
        ).all():
            out[row_id] = seq
    return out


# --- describing entries ----------------------------------------------------------------------


def _short(value: Any, refs: frozenset[str] = frozenset()) -> str:
    if isinstance(value, str):
        if _HEX64.fullmatch(value):
            return ("【所查企业】" if value in refs else "") + value[:12] + "…"
        value = labels.value_label(value)
        return value if len(value) <= 60 else value[:60] + "…"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dict):
        return "；".join(f"{labels.OBJECT_KEYS.get(k, '其他')}：{_short(v, refs)}" for k, v in sorted(value.items()))
    if isinstance(value, list):
        shown = [_short(v, refs) for v in value[:8]]
        return "[" + "，".join(shown) + ("，…" if len(value) > 8 else "") + "]"
    return json.dumps(value, ensure_ascii=False)


def describe_objects(body: Mapping[str, Any], ref: frozenset[str] = frozenset()) -> str:
    """One line about what an entry touched; HMACs shortened, the searched one marked."""
    o = flags.objects(body)
    action = body.get("action") or ""
    if action.startswith(flags.SEALED_READ):
        n = len(o.get("target_refs") or [])
        hit = "，其中包括所查企业" if ref and ref.intersection(o.get("target_refs") or []) else ""
        where = flags._positions(o.get("positions"))
        kind = labels.VALUE_LABELS.get(str(o.get("kind")), "保密内容")
        return f"任务 {body.get('task_id')} 的保密内容（{kind}）：{where or '—'}，共 {n} 个企业{hit}"
    if "endpoint" in o and set(o) <= {"endpoint", "method", "args", "query"}:
        parts = [labels.endpoint_label(str(o["endpoint"]))]
        if o.get("args"):
            parts.append(_short(o["args"], ref))
        if o.get("query"):
            parts.append("查询参数：" + "、".join(o["query"]))
        return " ".join(parts)
    return _short(dict(o), ref) if o else ""


@dataclass
class Row:
    seq: int
    at: dt.datetime
    username: Optional[str]
    roles: list[str]
    section: Optional[str]
    client: Optional[str]
    action: str
    label: str
    outcome: str
    reason: Optional[str]
    task_id: Optional[int]
    summary: str


def _hide_refs(value: Any, keep: frozenset[str]) -> Any:
    if isinstance(value, str) and _HEX64.fullmatch(value) and value not in keep:
        return SEALED_REF_SHOWN
    if isinstance(value, dict):
        return {k: _hide_refs(v, keep) for k, v in value.items()}
    if isinstance(value, list):
        return [_hide_refs(v, keep) for v in value]
    return value


def shown_body(body: dict, open_tasks: set[int], keep: frozenset[str] = frozenset()) -> dict:
    """The body as the console shows it: an unpublished task's enterprise references hidden.

    The hash is checked on the stored text; only the display leaves them
    out, so an old-form reference cannot be matched by eye against the same
    enterprise's directory entries. A reference the search matched (under
    an investigation) stays, marked.
    """
    task = flags.task_of(body)
    if task is None or task in open_tasks or "objects" not in body:
        return body
    return {**body, "objects": _hide_refs(body["objects"], keep)}


def row_of(seq: int, at: dt.datetime, body_text: str, ref: frozenset[str] = frozenset(),
           open_tasks: Optional[set[int]] = None) -> Row:
    try:
        body = json.loads(body_text)
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    body = shown_body(body, open_tasks if open_tasks is not None else published_task_ids(), ref)
    action = body.get("action") or ""
    return Row(
        seq=seq,
        at=at,
        username=body.get("username"),
        roles=list(body.get("roles") or []),
        section=body.get("section"),
        client=body.get("client"),
        action=action,
        label=action_label(action),
        outcome=body.get("outcome") or "",
        reason=body.get("reason"),
        task_id=flags.task_of(body),
        summary=describe_objects(body, ref),
    )


@dataclass(frozen=True)
class Page(listing.Page):
    """A page of log rows (the one Page's items), and the investigation that let an enterprise search reach sealed tasks."""

    investigation: Optional[Investigation] = None

    @property
    def rows(self) -> list[Row]:
        return list(self.items)


def search(f: Filters, scope: Scope, page: int = 1, per_page: int = PER_PAGE) -> Page:
    """The entries matching the filters within the officer's scope, newest first."""
    where = conditions(f, scope)
    published = published_task_ids()
    if f.code:
        es = enterprise_scope(f.code, scope)
        matches = enterprise_matches(f.code, where, es)
        total = len(matches)
        pages = max(ceil(total / per_page), 1)
        page = min(max(page, 1), pages)
        ordered = sorted(matches.items(), key=lambda item: (item[1], item[0]), reverse=True)
        ids = [row_id for row_id, _ in ordered[(page - 1) * per_page : page * per_page]]
        rows = db.session.execute(
            select(AccessLogEntry.seq, AccessLogEntry.at, AccessLogEntry.body)
            .where(AccessLogEntry.id.in_(ids) if ids else False)
            .order_by(AccessLogEntry.seq.desc(), AccessLogEntry.id.desc())
        ).all()
        refs = frozenset(es.refs)
        return Page([row_of(r.seq, r.at, r.body, refs, published) for r in rows], total, page, per_page,
                    es.investigation)
    total = db.session.scalar(select(func.count()).select_from(AccessLogEntry).where(*where)) or 0
    pages = max(ceil(total / per_page), 1)
    page = min(max(page, 1), pages)
    rows = db.session.execute(
        select(AccessLogEntry.seq, AccessLogEntry.at, AccessLogEntry.body)
        .where(*where)
        .order_by(AccessLogEntry.seq.desc(), AccessLogEntry.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return Page([row_of(r.seq, r.at, r.body, frozenset(), published) for r in rows], total, page, per_page)


def known_actions(scope: Scope) -> list[str]:
    """Actions present in the officer's part of the log, for the search form's suggestions."""
    return list(db.session.execute(
        select(AccessLogEntry.action).where(scope.condition()).distinct().order_by(AccessLogEntry.action)
    ).scalars())


def known_users(scope: Scope) -> list[tuple[str, str]]:
    return [tuple(r) for r in db.session.execute(
        select(User.username, User.display_name)
        .where(User.department_id == scope.department_id)
        .order_by(User.username)
    ).all()]


# --- one entry --------------------------------------------------------------------------------


@dataclass
class StoredRow:
    """One stored row with the body laid out, and whether it still fits where it stands."""

    row: Row
    row_id: int
    body: dict
    body_text: str
    pretty: str
    prev_hash: str
    entry_hash: str
    hash_ok: bool
    mac_ok: bool
    follows_previous: Optional[bool]  # None when there is no previous entry to compare with


def entry(seq: int, scope: Scope) -> list[StoredRow]:
    """Every row stored at `seq` in the officer's scope (more than one means someone inserted one)."""
    rows = db.session.execute(
        select(AccessLogEntry).where(AccessLogEntry.seq == seq, scope.condition()).order_by(AccessLogEntry.id)
    ).scalars().all()
    published = published_task_ids()
    previous = db.session.execute(
        select(AccessLogEntry.entry_hash).where(AccessLogEntry.seq == seq - 1).order_by(AccessLogEntry.id)
    ).scalars().all()
    mac_key, suite = log.keyring().entry_mac_key, log.keyring().crypto_suite
    out = []
    for r in rows:
        try:
            body = json.loads(r.body)
            body = shown_body(body, published) if isinstance(body, dict) else body
            pretty = json.dumps(body, ensure_ascii=False, indent=2, sort_keys=True)
        except ValueError:
            body, pretty = {}, r.body
        try:
            hash_ok = chain.entry_hash(r.prev_hash, r.body, suite) == r.entry_hash
        except ValueError:
            hash_ok = False
        out.append(StoredRow(
            row=row_of(r.seq, r.at, r.body, frozenset(), published),
            row_id=r.id,
            body=body if isinstance(body, dict) else {},
            body_text=r.body,
            pretty=pretty,
            prev_hash=r.prev_hash,
            entry_hash=r.entry_hash,
            hash_ok=hash_ok,
            mac_ok=chain.entry_mac(mac_key, r.entry_hash, suite) == r.entry_mac,
            follows_previous=_follows(seq, r.prev_hash, previous),
        ))
    return out


def _follows(seq: int, prev_hash: str, previous: list[str]) -> Optional[bool]:
    """Whether an entry names the previous entry's hash (the first names the empty chain); None if that is gone."""
    if seq == 1:
        return prev_hash == chain.GENESIS
    return (prev_hash in previous) if previous else None


def neighbours(seq: int, scope: Scope) -> tuple[Optional[int], Optional[int]]:
    before = db.session.scalar(select(func.max(AccessLogEntry.seq)).where(AccessLogEntry.seq < seq, scope.condition()))
    after = db.session.scalar(select(func.min(AccessLogEntry.seq)).where(AccessLogEntry.seq > seq, scope.condition()))
    return before, after


# --- flags ------------------------------------------------------------------------------------


@dataclass
class FlagRange:
    since: str
    until: str
    first_day: Optional[dt.date] = None
    last_day: Optional[dt.date] = None
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> "FlagRange":
        today = clock.today()
        r = cls((args.get("since") or "").strip(), (args.get("until") or "").strip())
        try:
            r.first_day = dt.date.fromisoformat(r.since) if r.since else today - dt.timedelta(days=DEFAULT_FLAG_DAYS - 1)
        except ValueError:
            r.errors["since"] = "开始日期的格式应为“2026-03-02”。"
        try:
            r.last_day = dt.date.fromisoformat(r.until) if r.until else today
        except ValueError:
            r.errors["until"] = "结束日期的格式应为“2026-03-31”。"
        if r.first_day and r.last_day:
            if r.first_day > r.last_day:
                r.errors["until"] = "结束日期不能早于开始日期，请调整日期范围。"
            elif (r.last_day - r.first_day).days + 1 > MAX_FLAG_DAYS:
                r.errors["since"] = f"一次最多统计 {MAX_FLAG_DAYS} 天，请缩小日期范围，分段查看。"
        r.since = r.first_day.isoformat() if r.first_day else r.since
        r.until = r.last_day.isoformat() if r.last_day else r.until
        return r

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        tz = zone()
        start = dt.datetime.combine(self.first_day, dt.time(0), tz)
        end = dt.datetime.combine(self.last_day + dt.timedelta(days=1), dt.time(0), tz)
        return start.astimezone(dt.timezone.utc), end.astimezone(dt.timezone.utc)


def _prefilter(kind: str):
    """Which entries a rule may flag, as a condition on the indexed columns: a superset of what it flags."""
    a = AccessLogEntry.action
    if kind == "need_to_know":
        sealed_pages = [f"{verb}:{e}" for e in flags.SEALED_ENDPOINTS for verb in ("read", "change")]
        return or_(a.startswith(flags.SEALED_READ, autoescape=True), and_(AccessLogEntry.outcome == "denied", a.in_(sealed_pages)))
    if kind == "denials":
        return AccessLogEntry.outcome == "denied"
    if kind == "bulk_exports":
        return and_(
            AccessLogEntry.outcome == "ok",
            or_(a == "export", a.contains("export", autoescape=True), a.contains("print", autoescape=True)),
        )
    if kind == "redraws":
        return a.in_(flags.REDRAW_ACTIONS)
    if kind == "publication":
        return or_(*(a.startswith(p, autoescape=True) for p in flags.PUBLICATION_PREFIXES))
    if kind == "key_ops":
        return or_(*(a.startswith(p, autoescape=True) for p in flags.KEY_PREFIXES), a.in_(flags.INTEGRITY_ACTIONS))
    if kind == "admin_changes":
        return a.in_((*flags.ADMIN_ACTIONS, "user_updated"))
    if kind == "enterprise_searches":
        return and_(a == flags.ENTERPRISE_SEARCH, AccessLogEntry.body.like('%"enterprise_ref"%'))
    if kind == "outside_plan":
        return a.in_(flags.TASK_SAVE_ACTIONS)
    raise KeyError(kind)


def _bodies(where) -> list[dict]:
    rows = db.session.execute(
        select(AccessLogEntry.body).where(*where).order_by(AccessLogEntry.seq, AccessLogEntry.id)
    ).scalars()
    out = []
    for text in rows:
        try:
            body = json.loads(text)
        except ValueError:
            continue  # a damaged body is for `verify` to name, not a flag
        if isinstance(body, dict) and isinstance(body.get("seq"), int) and isinstance(body.get("at"), str):
            out.append(body)
    return out


def _off_hours_entries(r: FlagRange, cal: Calendar, start: dt.datetime, end: dt.datetime, scope: Scope) -> list[dict]:
    windows = flags.off_hours_windows(r.first_day, r.last_day, cal, zone())
    out: list[dict] = []
    for i in range(0, len(windows), _WINDOWS_PER_QUERY):
        ranges = [
            and_(AccessLogEntry.at >= max(a, start), AccessLogEntry.at < min(b, end))
            for a, b in windows[i : i + _WINDOWS_PER_QUERY]
        ]
        out += _bodies([AccessLogEntry.username.is_not(None), scope.condition(), or_(*ranges)])
    return out


def need_to_know_facts(task_ids: Iterable[int]) -> flags.NeedToKnow:
    """Who may read each task's sealed content, as the rule needs it (no sealed blob is opened)."""
    ids = sorted({t for t in task_ids if isinstance(t, int)})
    ntk = flags.NeedToKnow()
    for i in range(0, len(ids), _CHUNK):
        chunk = ids[i : i + _CHUNK]
        for task_id, organizer_id, section, department, published_at in db.session.execute(
            select(Task.id, Task.organizer_id, Section.code, Department.code, PublishedTask.published_at)
            .join(Section, Task.section_id == Section.id)
            .join(Department, Section.department_id == Department.id)
            .outerjoin(PublishedTask, PublishedTask.task_id == Task.id)
            .where(Task.id.in_(chunk))
        ).all():
            ntk.tasks[task_id] = flags.TaskFacts(organizer_id, section, department, published_at)
        voided = dict(db.session.execute(
            select(DrawAttempt.id, DrawAttempt.void_approved_at).where(DrawAttempt.task_id.in_(chunk))
        ).all())
        replaced = {
            (attempt_id, position, inspector_id): at
            for attempt_id, position, inspector_id, at in db.session.execute(
                select(Recusal.attempt_id, Recusal.position, Recusal.out_inspector_id, Recusal.declared_at)
                .where(Recusal.task_id.in_(chunk))
            ).all()
        }
        for task_id, attempt_id, position, inspector_id, user_id, active in db.session.execute(
            select(Assignment.task_id, Assignment.attempt_id, Assignment.position, Assignment.inspector_id,
                   Inspector.user_id, Assignment.active)
            .join(Inspector, Assignment.inspector_id == Inspector.id)
            .where(Assignment.task_id.in_(chunk), Inspector.user_id.is_not(None))
        ).all():
            until = None
            if not active:
                ends = [t for t in (replaced.get((attempt_id, position, inspector_id)), voided.get(attempt_id)) if t]
                until = min(ends) if ends else None
            ntk.places.setdefault(task_id, []).append(flags.Place(attempt_id, position, user_id, until))
    return ntk


@dataclass
class FlagKindView:
    kind: flags.Kind
    hits: list[flags.Hit]

    @property
    def entries(self) -> int:
        return len({s for h in self.hits for s in h.seqs})

    @property
    def shown(self) -> list[flags.Hit]:
        """The hits listed on the page: a month with thousands would bury the rest, so the earliest MAX_SHOWN_HITS."""
        return self.hits[:MAX_SHOWN_HITS]


@dataclass
class FlagsView:
    range: FlagRange
    kinds: list[FlagKindView]
    warnings: list[str]

    def counts(self) -> dict[str, int]:
        return {k.kind.code: len(k.hits) for k in self.kinds}


def compute_flags(r: FlagRange, scope: Scope, kinds: Iterable[str] = ()) -> FlagsView:
    """Every flag (or the named kinds) over the range's entries in scope; each rule reads only what it could flag."""
    start, end = r.bounds()
    cal = calendar()
    wanted = [k for k in flags.KINDS if not kinds or k.code in kinds]
    in_range = [AccessLogEntry.at >= start, AccessLogEntry.at < end, scope.condition()]
    selected = {k.code: _bodies([*in_range, _prefilter(k.code)]) for k in wanted if k.code != "off_hours"}
    if any(k.code == "off_hours" for k in wanted):
        selected["off_hours"] = _off_hours_entries(r, cal, start, end, scope)
    ctx = flags.Context(
        calendar=cal,
        tz=zone(),
        need_to_know=need_to_know_facts(e.get("task_id") for e in selected.get("need_to_know", [])),
    )
    kinds = [FlagKindView(kind, flags.RULES[kind.code](selected[kind.code], ctx)) for kind in wanted]
    return FlagsView(r, kinds, flags.calendar_warnings(r.first_day, r.last_day, cal))


def hit_search_args(hit: flags.Hit) -> dict[str, str]:
    """Search filters that list a flag's entries together (and their neighbours in time)."""
    args = {"since": local_text(hit.first_at), "until": local_text(hit.last_at)}
    if hit.username:
        args["user"] = hit.username
    if hit.action:
        args["action"] = hit.action
    return args


# --- verification -------------------------------------------------------------------------------


@dataclass
class CheckpointView:
    seq: int
    head_hash: str
    signed_at: dt.datetime
    key_id: str
    signature: str
    fault: Optional[str]  # Chinese, None when the signature verifies


def _checkpoint_view(cp: AuditCheckpoint) -> CheckpointView:
    keys = log.keyring()
    try:
        signed_at_text = chain.parse_checkpoint_statement(cp.statement)[2]
    except ValueError:
        signed_at_text = iso(cp.signed_at)
    signed = log_verify.SignedCheckpoint(cp.seq, cp.head_hash, signed_at_text, cp.statement, cp.signature, cp.key_id)
    fault = log_verify.checkpoint_fault(signed, keys.verify_key)
    return CheckpointView(cp.seq, cp.head_hash, cp.signed_at, cp.key_id, cp.signature, fault[1] if fault else None)


def recent_checkpoints(limit: int) -> list[CheckpointView]:
    rows = db.session.execute(
        select(AuditCheckpoint).order_by(AuditCheckpoint.seq.desc(), AuditCheckpoint.id.desc()).limit(limit)
    ).scalars().all()
    return [_checkpoint_view(cp) for cp in rows]


@dataclass
class VerifyView:
    report: log_verify.Report
    head: Optional[tuple[int, str]]
    latest: Optional[CheckpointView]
    checkpoints: int
    key_id: str
    public_key: str
    against: Optional[log_verify.ExportedCheckpoints] = None

    def logged(self) -> dict[str, Any]:
        p = self.report.problem
        out: dict[str, Any] = {
            "result": "ok" if self.report.ok else "broken",
            "checked": self.report.checked,
            "head": self.report.head,
            "problem": None if p is None else {"seq": p.seq, "kind": p.kind},
        }
        if self.against is not None:
            out["against"] = {
                "key_id": self.against.key_id,
                "exported_at": self.against.exported_at,
                "checkpoints": len(self.against.checkpoints),
                "last_seq": self.report.exported_last,
            }
        return out


def verify(against: Optional[log_verify.ExportedCheckpoints] = None) -> VerifyView:
    """Run the full check (and against a kept export, if given) and gather what the page shows."""
    report = log_verify.verify_log(against)
    keys = log.keyring()
    latest = recent_checkpoints(1)
    return VerifyView(
        report=report,
        head=log.head_row(),
        latest=latest[0] if latest else None,
        checkpoints=db.session.scalar(select(func.count()).select_from(AuditCheckpoint)) or 0,
        key_id=keys.signing_key_id,
        public_key=log_verify.raw_public_key(keys.verify_key).hex(),
        against=against,
    )


def export_document() -> tuple[dict, list[chain.Problem]]:
    return log_verify.export_checkpoints()
