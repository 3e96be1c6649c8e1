"""Form parsing and validation for the four directories (Art 4, 5, 6, 7).

Each form keeps exactly what the person typed, so a rejected form is shown
again with every value in place and a Chinese message beside each field
that needs fixing (bad input loses nothing). Values reach the models only
through `values()` after `validate()` has passed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Optional

from sqlalchemy import select

from .. import creditcode
from ..extensions import db
from ..models import Conflict, Inspector, Matter, Section, Target, Township, User
from ..models.directories import (
    CONFLICT_KINDS,
    CREDIT_GRADES,
    INSPECTOR_STATUSES,
    MATTER_METHODS,
    MATTER_STATUSES,
    TARGET_STATUSES,
    staged_code,
)

# Art 7: "每次抽查对象不低于同类型、同专业统计调查对象的1%", "每年开展随机抽查不少于3次".
ART7_MIN_RATIO = Decimal(1)
ART7_MIN_FREQUENCY = 3
RATIO_MAX_PLACES = 2
DOCUMENTS_LIMIT = 5000

# SPEC §2: the usual items checked by an HRSS inspection, offered on a new matter.
USUAL_CONTENT_ITEMS = (
    "用人单位内部劳动保障规章制度情况",
    "劳动合同签订情况",
    "劳务派遣用工情况",
    "遵守禁止使用童工规定情况",
    "遵守女职工和未成年工特殊劳动保护规定情况",
    "遵守工作时间和休息休假规定情况",
    "支付劳动者工资和执行最低工资标准情况",
    "参加各项社会保险和缴纳社会保险费情况",
    "法律、法规规定的其他劳动保障监察事项",
)


def _text(form, name: str) -> str:
    # Kept whole even when too long: validate() says so rather than cutting silently.
    return form.get(name, "").strip()


def _int_or_none(raw: str) -> Optional[int]:
    raw = (raw or "").strip()
    return int(raw) if raw.isdigit() else None


def parse_ratio(raw: str) -> tuple[Optional[str], Optional[str]]:
    """(normalised decimal text, None) or (None, Chinese reason).

    Stored as text and compared as Decimal, never as a float, so the sample
    size k = ceil(N × ratio / 100) is exact (SPEC §3).
    """
    text = raw.strip().replace("％", "").replace("%", "").strip()
    if not text:
        return None, "请填写抽查比例，例如 1 或 2.5（单位为 %）。"
    if not all(ch.isdigit() or ch == "." for ch in text) or not text[0].isdigit():
        return None, f"抽查比例“{raw.strip()}”不是有效的数字，请填写如 1 或 2.5 这样的数（单位为 %）。"
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None, f"抽查比例“{raw.strip()}”不是有效的数字，请填写如 1 或 2.5 这样的数（单位为 %）。"
    if value <= 0 or value > 100:
        return None, "抽查比例应大于 0 且不超过 100（单位为 %）。"
    if -value.as_tuple().exponent > RATIO_MAX_PLACES:
        return None, f"抽查比例最多保留 {RATIO_MAX_PLACES} 位小数。"
    normalised = format(value.normalize(), "f")
    return normalised, None


def ratio_below_art7(ratio_text: str) -> bool:
    try:
        return Decimal(ratio_text) < ART7_MIN_RATIO
    except InvalidOperation:
        return False


@dataclass
class MatterForm:
    """随机抽查事项 (Art 4): the fields of the public matter list."""

    code: str = ""
    name: str = ""
    legal_basis: str = ""
    content: str = ""
    documents: str = ""
    ratio_percent: str = "1"
    frequency: str = "3"
    method: str = "both"
    status: str = "active"
    accept_low_ratio: bool = False
    errors: dict[str, str] = field(default_factory=dict)
    # Set by validate(): a ratio below Art 7's 1% needs an explicit confirmation.
    needs_low_ratio_confirmation: bool = False

    @classmethod
    def blank(cls) -> "MatterForm":
        return cls(content="\n".join(USUAL_CONTENT_ITEMS))

    @classmethod
    def from_matter(cls, matter: Matter) -> "MatterForm":
        return cls(
            code=matter.code,
            name=matter.name,
            legal_basis=matter.legal_basis,
            content=matter.content,
            documents=matter.documents or "",
            ratio_percent=matter.ratio_percent,
            frequency=str(matter.frequency),
            method=matter.method,
            status=matter.status,
            accept_low_ratio=ratio_below_art7(matter.ratio_percent),
        )

    @classmethod
    def from_request(cls, form) -> "MatterForm":
        return cls(
            code=_text(form, "code"),
            name=_text(form, "name"),
            legal_basis=form.get("legal_basis", "").strip(),
            content=form.get("content", "").strip(),
            documents=form.get("documents", "").strip(),
            ratio_percent=form.get("ratio_percent", "").strip(),
            frequency=form.get("frequency", "").strip(),
            method=form.get("method", ""),
            status=form.get("status", ""),
            accept_low_ratio=form.get("accept_low_ratio") == "on",
        )

    @property
    def content_items(self) -> list[str]:
        return [line.strip() for line in self.content.splitlines() if line.strip()]

    @property
    def document_items(self) -> list[str]:
        return [line.strip() for line in self.documents.splitlines() if line.strip()]

    @property
    def frequency_below_art7(self) -> bool:
        return self.frequency.isdigit() and 0 < int(self.frequency) < ART7_MIN_FREQUENCY

    def validate(self, matter: Optional[Matter]) -> bool:
        e = self.errors
        if not self.code:
            e["code"] = "请填写事项编码，例如 RSJ-JC-001。"
        elif len(self.code) > 32 or any(ch.isspace() for ch in self.code):
            e["code"] = "事项编码最多 32 个字符，且不能包含空格。"
        else:
            clash = select(Matter.id).where(Matter.code == self.code)
            if matter is not None:
                clash = clash.where(Matter.id != matter.id)
            if db.session.execute(clash).first():
                e["code"] = f"事项编码 {self.code} 已被其他事项使用，请换一个。"
        if not self.name:
            e["name"] = "请填写事项名称。"
        elif len(self.name) > 200:
            e["name"] = "事项名称最多 200 个字。"
        if not self.legal_basis:
            e["legal_basis"] = "请填写抽查依据（法律、法规、规章的名称和条款）。"
        if not self.content_items:
            e["content"] = "请至少填写一项抽查内容，每行一项。"
        if len(self.documents) > DOCUMENTS_LIMIT:
            e["documents"] = f"需备查的材料过长（不超过{DOCUMENTS_LIMIT}字），请精简，每行写一项材料。"
        ratio, problem = parse_ratio(self.ratio_percent)
        if problem:
            e["ratio_percent"] = problem
        else:
            self.ratio_percent = ratio
            if ratio_below_art7(ratio) and not self.accept_low_ratio:
                self.needs_low_ratio_confirmation = True
                e["ratio_percent"] = (
                    f"抽查比例 {ratio}% 低于细则第七条规定的 1%。只有小微企业等可以适当减少的情形才能这样设置；"
                    "如确属此类情形，请勾选下方的确认后再保存，否则请改为 1 或更高。"
                )
        if not self.frequency.isdigit() or int(self.frequency) < 1:
            e["frequency"] = "抽查频次应为不小于 1 的整数（次/年）。"
        elif int(self.frequency) > 366:
            e["frequency"] = "抽查频次不能超过每年 366 次。"
        if self.method not in MATTER_METHODS:
            e["method"] = "请选择检查方式。"
        if self.status not in MATTER_STATUSES:
            e["status"] = "请选择事项状态。"
        return not e

    def values(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "legal_basis": self.legal_basis,
            "content": "\n".join(self.content_items),
            "documents": "\n".join(self.document_items),
            "ratio_percent": self.ratio_percent,
            "frequency": int(self.frequency),
            "method": self.method,
            "status": self.status,
        }


def parse_day(raw: str) -> Optional[date]:
    """A date typed as 2027-06-30, 2027-6-30, 2027/6/30 or 2027.6.30 (as on a certificate)."""
    parts = raw.strip().replace("/", "-").replace(".", "-").split("-")
    if len(parts) != 3 or not all(p.isdigit() for p in parts) or len(parts[0]) != 4:
        return None
    try:
        return date(int(parts[0]), int(parts[1]), int(parts[2]))
    except ValueError:
        return None


@dataclass
class InspectorForm:
    """执法检查人员 (Art 5): an entry of the department's inspector directory."""

    staff_no: str = ""
    name: str = ""
    section_id: Optional[int] = None
    cert_no: str = ""
    cert_expiry: str = ""
    specialties: str = ""
    status: str = "active"
    user_id: Optional[int] = None
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_inspector(cls, inspector: Inspector) -> "InspectorForm":
        return cls(
            staff_no=inspector.staff_no,
            name=inspector.name,
            section_id=inspector.section_id,
            cert_no=inspector.cert_no,
            cert_expiry=inspector.cert_expiry.isoformat(),
            specialties=inspector.specialties,
            status=inspector.status,
            user_id=inspector.user_id,
        )

    @classmethod
    def from_request(cls, form) -> "InspectorForm":
        return cls(
            staff_no=_text(form, "staff_no"),
            name=_text(form, "name"),
            section_id=_int_or_none(form.get("section_id", "")),
            cert_no=_text(form, "cert_no"),
            cert_expiry=form.get("cert_expiry", "").strip(),
            specialties=_text(form, "specialties"),
            status=form.get("status", ""),
            user_id=_int_or_none(form.get("user_id", "")),
        )

    def validate(self, inspector: Optional[Inspector], department_id: int) -> bool:
        e = self.errors
        if inspector is None:
            if not self.staff_no:
                e["staff_no"] = "请填写工号。"
            elif len(self.staff_no) > 32 or any(ch.isspace() for ch in self.staff_no):
                e["staff_no"] = "工号最多 32 个字符，且不能包含空格。"
            elif db.session.execute(select(Inspector.id).where(Inspector.staff_no == self.staff_no)).first():
                e["staff_no"] = f"工号 {self.staff_no} 已在执法人员名录中，请核对后再填写。"
        if not self.name:
            e["name"] = "请填写姓名。"
        elif len(self.name) > 64:
            e["name"] = "姓名最多 64 个字。"
        section = db.session.get(Section, self.section_id) if self.section_id else None
        if section is None or section.department_id != department_id:
            e["section_id"] = "请选择本部门的一个科室。"
        if not self.cert_no:
            e["cert_no"] = "请填写行政执法证号；没有执法证的人员不能参加随机抽查。"
        elif len(self.cert_no) > 64:
            e["cert_no"] = "执法证号最多 64 个字符。"
        else:
            clash = select(Inspector.name).where(
                Inspector.department_id == department_id, Inspector.cert_no == self.cert_no
            )
            if inspector is not None:
                clash = clash.where(Inspector.id != inspector.id)
            holder = db.session.execute(clash).scalar()
            if holder:
                e["cert_no"] = f"执法证号 {self.cert_no} 已登记在 {holder} 名下，请核对。"
        day = parse_day(self.cert_expiry)
        if day is None:
            e["cert_expiry"] = "请按 年-月-日 填写执法证有效期，例如 2027-06-30。"
        else:
            self.cert_expiry = day.isoformat()
        if len(self.specialties) > 255:
            e["specialties"] = "专业特长最多 255 个字。"
        if self.status not in INSPECTOR_STATUSES:
            e["status"] = "请选择人员状态。"
        if self.user_id is not None:
            user = db.session.get(User, self.user_id)
            if user is None or user.department_id != department_id:
                e["user_id"] = "请选择本部门的一个用户账号，或选择“不关联”。"
            else:
                clash = select(Inspector.name).where(Inspector.user_id == self.user_id)
                if inspector is not None:
                    clash = clash.where(Inspector.id != inspector.id)
                other = db.session.execute(clash).scalar()
                if other:
                    e["user_id"] = f"该账号已关联到执法人员 {other}，一个账号只能关联一名执法人员。"
        return not e

    def values(self) -> dict:
        return {
            "name": self.name,
            "section_id": self.section_id,
            "cert_no": self.cert_no,
            "cert_expiry": date.fromisoformat(self.cert_expiry),
            "specialties": self.specialties,
            "status": self.status,
            "user_id": self.user_id,
        }


@dataclass
class TargetForm:
    """检查对象 (Art 6, 7, 19): an entry of the department's target directory."""

    credit_code: str = ""
    name: str = ""
    industry: str = ""
    is_small_micro: bool = False
    township_id: Optional[int] = None
    address: str = ""
    legal_rep: str = ""
    contact: str = ""
    status: str = "operating"
    complaint_count: str = "0"
    serious_violation: bool = False
    credit_grade: str = "A"
    errors: dict[str, str] = field(default_factory=dict)

    LIMITS = {"name": 200, "industry": 64, "address": 255, "legal_rep": 64, "contact": 64}
    LABELS = {"name": "单位名称", "industry": "行业类型", "address": "地址", "legal_rep": "法定代表人", "contact": "联系电话"}

    @classmethod
    def from_target(cls, target: Target) -> "TargetForm":
        return cls(
            credit_code=target.credit_code,
            name=target.name,
            industry=target.industry,
            is_small_micro=target.is_small_micro,
            township_id=target.township_id,
            address=target.address,
            legal_rep=target.legal_rep,
            contact=target.contact,
            status=target.status,
            complaint_count=str(target.complaint_count),
            serious_violation=target.serious_violation,
            credit_grade=target.credit_grade,
        )

    @classmethod
    def from_request(cls, form) -> "TargetForm":
        return cls(
            credit_code=creditcode.normalise(form.get("credit_code", "")),
            name=_text(form, "name"),
            industry=_text(form, "industry"),
            is_small_micro=form.get("is_small_micro") == "on",
            township_id=_int_or_none(form.get("township_id", "")),
            address=_text(form, "address"),
            legal_rep=_text(form, "legal_rep"),
            contact=_text(form, "contact"),
            status=form.get("status", ""),
            complaint_count=form.get("complaint_count", "").strip() or "0",
            serious_violation=form.get("serious_violation") == "on",
            credit_grade=form.get("credit_grade", "").strip().upper(),
        )

    def validate(self, target: Optional[Target], department_id: int) -> bool:
        e = self.errors
        if target is None:
            problem = creditcode.problem(self.credit_code) if self.credit_code else "请填写统一社会信用代码（18 位）。"
            if problem:
                e["credit_code"] = problem if problem.endswith("。") else problem + "。请核对营业执照后重新填写。"
            elif db.session.execute(
                select(Target.name).where(
                    Target.department_id == department_id, Target.credit_code == self.credit_code
                )
            ).first():
                e["credit_code"] = f"统一社会信用代码 {self.credit_code} 已在本部门检查对象名录库中，请勿重复添加。"
            elif staged_code(department_id, self.credit_code):
                e["credit_code"] = (f"统一社会信用代码 {self.credit_code} 在一个正在写入的导入文件中，导入完成后即会出现在"
                                    "名录库中，请勿重复添加；如该导入已中断，请稍后再试。")
        if not self.name:
            e["name"] = "请填写单位名称（与营业执照一致）。"
        for name, limit in self.LIMITS.items():
            if len(getattr(self, name)) > limit:
                e[name] = f"{self.LABELS[name]}最多 {limit} 个字。"
        if self.township_id is not None and db.session.get(Township, self.township_id) is None:
            e["township_id"] = "请从列表中选择乡镇（街道）。"
        if self.status not in TARGET_STATUSES:
            e["status"] = "请选择经营状态。"
        if not self.complaint_count.isdigit() or int(self.complaint_count) > 100000:
            e["complaint_count"] = "被投诉举报次数应为 0 或正整数。"
        if self.credit_grade not in CREDIT_GRADES:
            e["credit_grade"] = "请选择信用等级 A、B、C 或 D。"
        return not e

    def values(self) -> dict:
        return {
            "name": self.name,
            "industry": self.industry,
            "is_small_micro": self.is_small_micro,
            "township_id": self.township_id,
            "address": self.address,
            "legal_rep": self.legal_rep,
            "contact": self.contact,
            "status": self.status,
            "complaint_count": int(self.complaint_count),
            "serious_violation": self.serious_violation,
            "credit_grade": self.credit_grade,
        }


@dataclass
class ConflictForm:
    """回避关系 (Art 5): an inspector who must never be drawn for a target."""

    inspector_id: Optional[int] = None
    credit_code: str = ""
    kind: str = ""
    reason: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    target: Optional[Target] = None
    inspector: Optional[Inspector] = None

    @classmethod
    def from_request(cls, form) -> "ConflictForm":
        return cls(
            inspector_id=_int_or_none(form.get("inspector_id", "")),
            credit_code=creditcode.normalise(form.get("credit_code", "")),
            kind=form.get("kind", ""),
            reason=form.get("reason", "").strip(),
        )

    def validate(self, department_id: int) -> bool:
        e = self.errors
        inspector = db.session.get(Inspector, self.inspector_id) if self.inspector_id else None
        if inspector is None or inspector.department_id != department_id:
            e["inspector_id"] = "请选择本部门执法人员名录中的一名执法人员。"
        else:
            self.inspector = inspector
        problem = creditcode.problem(self.credit_code) if self.credit_code else "请填写对方单位的统一社会信用代码（18 位）。"
        if problem:
            e["credit_code"] = problem if problem.endswith("。") else problem + "。请核对后重新填写。"
        else:
            self.target = db.session.execute(
                select(Target).where(
                    Target.department_id == department_id, Target.credit_code == self.credit_code
                )
            ).scalar_one_or_none()
            if self.target is None:
                e["credit_code"] = (
                    f"本部门检查对象名录库中没有统一社会信用代码为 {self.credit_code} 的单位。"
                    "名录库外的单位不会被抽取；如该单位应列入名录，请先在“检查对象”中添加。"
                )
        if self.kind not in CONFLICT_KINDS:
            e["kind"] = "请选择回避类型。"
        if not self.reason:
            e["reason"] = "请写明需要回避的具体原因，例如“配偶在该单位任财务主管”。"
        elif len(self.reason) > 500:
            e["reason"] = "回避原因最多 500 个字。"
        if self.inspector is not None and self.target is not None:
            exists = db.session.execute(
                select(Conflict.id).where(
                    Conflict.inspector_id == self.inspector.id, Conflict.target_id == self.target.id
                )
            ).first()
            if exists:
                e["credit_code"] = f"{self.inspector.name} 与该单位的回避关系已经登记过了，无需重复登记。"
        return not e
