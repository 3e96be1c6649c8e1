"""A drawn task with a matter's checklist and a user behind every inspector, so each
position's team can sign in; built with the ceremony tests' world and driven through
the ceremony's own routes."""
from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from ssj.extensions import db
from ssj.sealing.service import open_json
from ssj.models import Assignment, Inspector, Matter, Task, TaskMatter
from tests.ceremony.conftest import World, add_user, build_world, full_draw, section
from tests.conftest import loaded_version, post  # noqa: F401  (loaded_version: used by the tests)

ITEMS = ["劳动合同签订情况", "工资支付情况", "工作时间和休息休假"]
# Team members for JC02 and JC03; JC01 is inspector_jc.
USERS = {"JC01": "inspector_jc", "JC02": "insp_jc2", "JC03": "insp_jc3"}


@dataclass
class Drawn:
    world: World
    task_id: int
    code_of: dict[int, str]  # position -> credit code
    team_of: dict[int, list[str]]  # position -> usernames of the active team

    def member(self, position: int) -> str:
        return self.team_of[position][0]

    def own_position(self, username: str = "inspector_jc") -> int:
        return next(p for p, team in self.team_of.items() if username in team)

    def foreign_position(self, username: str = "inspector_jc") -> int:
        return next(p for p, team in self.team_of.items() if username not in team)

    def name_of(self, position: int) -> str:
        return self.world.targets[self.code_of[position]]


def build_drawn(app, login_as) -> Drawn:
    world = build_world(app)
    with app.app_context():
        for staff_no, username in USERS.items():
            if username != "inspector_jc":
                uid = add_user(username, ["inspector"], "RSJ", "JCDD")
                db.session.get(Inspector, world.inspectors[staff_no]).user_id = uid
        matter = Matter(code="JC-T-01", name="用人单位遵守劳动保障法律法规情况", legal_basis="《劳动保障监察条例》",
                        content="\n".join(ITEMS), ratio_percent="5", frequency=1, method="现场检查",
                        section_id=section("JCDD").id)
        db.session.add(matter)
        db.session.flush()
        db.session.add(TaskMatter(task_id=world.task_id, matter_id=matter.id))
        db.session.commit()
    full_draw(login_as("staff"), app, world.task_id)
    code_of, team_of = {}, {}
    with app.app_context():
        rows = db.session.execute(
            select(Assignment, Inspector.staff_no).join(Inspector, Assignment.inspector_id == Inspector.id)
            .where(Assignment.task_id == world.task_id, Assignment.active.is_(True))
            .order_by(Assignment.position, Inspector.staff_no)
        ).all()
        for a, staff_no in rows:
            code_of[a.position] = open_json(world.task_id, "assignment", a.record_id, a.target_sealed)["credit_code"]
            team_of.setdefault(a.position, []).append(USERS[staff_no])
    return Drawn(world, world.task_id, code_of, team_of)


@pytest.fixture
def drawn(app, login_as) -> Drawn:
    return build_drawn(app, login_as)


def record_url(task_id: int, position: int, tail: str = "record") -> str:
    return f"/tasks/{task_id}/positions/{position}/{tail}"


def complete(**over) -> dict:
    """A whole record, ready to submit."""
    data = {
        "method": "onsite",
        "started": "2026-03-02",
        "ended": "2026-03-03",
        "items": ITEMS[:2],
        "findings": "未按月足额支付3名职工工资",
        "onsite_record": "检查人员出示执法证件，查阅工资台账和劳动合同。",
        "evaluation": "基本遵守劳动保障法律法规，工资支付存在问题。",
        "result": "发现问题已责令改正",
        "handling": "rectify",
        "rectify_deadline": "2026-03-20",
        "decision_no": "",
        "handling_detail": "责令十日内补发工资。",
    }
    data.update(over)
    return data


def task_status(app, task_id: int) -> str:
    with app.app_context():
        return db.session.get(Task, task_id).status


def save_record(client, drawn: Drawn, position: int, data: dict):
    """Post the record form as loaded now (its row_version), like a person who opened the page first."""
    url = record_url(drawn.task_id, position)
    return post(client, url, {"row_version": loaded_version(client, url), **data})


def submit(client, drawn: Drawn, position: int, **over):
    return save_record(client, drawn, position, {**complete(**over), "action": "submit"})


def recheck_form(client, drawn: Drawn, position: int, followup_id: int) -> dict:
    """The hidden fields of one order's re-check form as the record page shows it now."""
    page = client.get(record_url(drawn.task_id, position)).text
    form = re.search(rf'followups/{followup_id}/recheck"(.*?)</form>', page, re.S)
    assert form, "no re-check form for this order"
    return dict(re.findall(r'name="(row_version|seen_deadline)" value="([^"]*)"', form.group(1)))


def recheck(client, drawn: Drawn, position: int, followup_id: int, **data):
    """Post the re-check of an order as loaded now, like a person who opened the page first."""
    url = record_url(drawn.task_id, position, f"followups/{followup_id}/recheck")
    return post(client, url, {**recheck_form(client, drawn, position, followup_id), **data})
