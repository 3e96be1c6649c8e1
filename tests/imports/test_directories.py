"""Importing inspectors, matters and conflicts: their own keys, scopes and lookups."""
from datetime import date

from sqlalchemy import select

from ssj.directories.versions import apply_matter_changes
from ssj.extensions import db
from ssj.models import Conflict, Inspector, Matter, MatterVersion, Section, User

from .conftest import code, headers, job_of, target_row, upload, xlsx


def inspector_row(no: str, **over):
    row = {"工号": no, "姓名": f"执法员{no}", "所属科室": "劳动保障监察大队", "执法证号": f"豫A{no}",
           "执法证有效期至": date(2028, 6, 30), "专业特长": "工资支付", "状态(在岗/休假/已调离)": "在岗"}
    row.update(over)
    return [row[h] for h in headers("inspectors")]


def matter_row(code_: str, **over):
    row = {"事项编码": code_, "事项名称": "劳动用工检查", "抽查依据": "《劳动保障监察条例》第十一条",
           "抽查内容": "劳动合同签订情况；工资支付情况", "需备查的材料": "营业执照副本；劳动合同", "抽查比例(%)": 1, "抽查频次(次/年)": 3,
           "检查方式(现场检查/书面检查/现场检查、书面检查)": "现场检查", "责任科室": "劳动保障监察大队", "状态": "有效"}
    row.update(over)
    return [row[h] for h in headers("matters")]


def test_inspectors_import_with_dates_as_cells_or_text(app, login_as):
    staff = login_as("staff")
    rows = [inspector_row("JC001"), inspector_row("JC002", **{"执法证有效期至": "2027-01-15", "所属科室": "社会保险股",
                                                              "状态(在岗/休假/已调离)": "休假"})]
    job = job_of(app, upload(staff, "inspectors", xlsx(headers("inspectors"), rows)))
    assert (job.state, job.created) == ("done", 2)
    with app.app_context():
        second = db.session.execute(select(Inspector).where(Inspector.staff_no == "JC002")).scalar_one()
        assert second.cert_expiry == date(2027, 1, 15) and second.section.name == "社会保险股"
        assert second.status == "leave" and not second.eligible_on(date(2026, 1, 1))


def test_inspector_rows_name_bad_dates_sections_and_other_departments(app, login_as):
    job_of(app, upload(login_as("staff_scj"), "inspectors", xlsx(headers("inspectors"), [
        inspector_row("SC001", **{"所属科室": "执法稽查科"})])))
    staff = login_as("staff")
    rows = [
        inspector_row("JC001", **{"执法证有效期至": "2027-02-30"}),
        inspector_row("JC002", **{"所属科室": "执法稽查科"}),
        inspector_row("SC001"),
        inspector_row("JC 004"),
        inspector_row("JC005", **{"状态(在岗/休假/已调离)": "出差"}),
    ]
    r = upload(staff, "inspectors", xlsx(headers("inspectors"), rows))
    assert job_of(app, r).error_count == 5
    page = staff.get(r.headers["Location"]).text
    assert "第 2 行：执法证有效期至“2027-02-30”不是有效日期" in page
    assert "第 3 行：所属科室“执法稽查科”不是本部门的科室" in page and "劳动保障监察大队" in page
    assert "第 4 行：工号 SC001 已登记在商水县市场监督管理局" in page
    assert "第 5 行：工号“JC 004”中不能有空格" in page
    assert "第 6 行：状态应为“在岗”、“休假”、“已调离”之一，而不是“出差”" in page
    with app.app_context():
        assert db.session.execute(select(Inspector.staff_no)).scalars().all() == ["SC001"]


def test_matter_import_versions_every_change(app, login_as):
    staff = login_as("staff")
    job = job_of(app, upload(staff, "matters", xlsx(headers("matters"), [matter_row("M-1"), matter_row("M-2")])))
    assert (job.state, job.created) == ("done", 2)
    changed = matter_row("M-1", **{"抽查比例(%)": "2.5", "抽查内容": "劳动合同签订情况\n工资支付情况\n工作时间"})
    job = job_of(app, upload(staff, "matters", xlsx(headers("matters"), [changed, matter_row("M-2")])))
    assert (job.created, job.updated, job.unchanged) == (0, 1, 1)
    with app.app_context():
        m = db.session.execute(select(Matter).where(Matter.code == "M-1")).scalar_one()
        assert m.ratio_percent == "2.5" and m.content_items == ["劳动合同签订情况", "工资支付情况", "工作时间"]
        versions = db.session.execute(
            select(MatterVersion).where(MatterVersion.matter_id == m.id).order_by(MatterVersion.version)
        ).scalars().all()
        assert [v.version for v in versions] == [1, 2]
        assert all(v.change_kind == "import" and v.changed_by.username == "staff_jc" for v in versions)
        assert '"ratio_percent": ["1", "2.5"]' in versions[1].changes_json


def test_matters_only_for_the_uploaders_section(app, login_as):
    with app.app_context():
        sb = db.session.execute(select(Section).where(Section.code == "SBG")).scalar_one()
        user = db.session.execute(select(User).where(User.username == "staff_sb")).scalar_one()
        apply_matter_changes(None, {"code": "SB-1", "name": "社保", "legal_basis": "社会保险法", "content": "参保",
                                    "ratio_percent": "1", "frequency": 3, "method": "written",
                                    "section_id": sb.id, "status": "active"}, user, "create")
        db.session.commit()
    staff = login_as("staff")
    rows = [matter_row("M-1", **{"责任科室": "社会保险股"}), matter_row("SB-1"),
            matter_row("M-3", **{"抽查比例(%)": 0.5, "抽查频次(次/年)": 2.5})]
    r = upload(staff, "matters", xlsx(headers("matters"), rows))
    page = staff.get(r.headers["Location"]).text
    assert "第 2 行：责任科室只能是您所在的“劳动保障监察大队”，而不是“社会保险股”" in page
    assert "第 3 行：事项编码 SB-1 已是“社会保险股”的事项，只能由该科室修改" in page
    assert "第 4 行：抽查比例应在 1 到 100 之间，而不是 0.5" in page and "抽查频次应为整数" in page
    with app.app_context():
        assert db.session.execute(select(Matter.code)).scalars().all() == ["SB-1"]


def test_conflicts_link_the_departments_own_inspectors_and_targets(app, login_as, townships):
    staff = login_as("staff")
    upload(staff, "inspectors", xlsx(headers("inspectors"), [inspector_row("JC001")]))
    upload(staff, "targets", xlsx(headers("targets"), [target_row(1)]))
    upload(login_as("staff_scj"), "targets", xlsx(headers("targets"), [target_row(2)]))
    hs = headers("conflicts")
    rows = [["JC001", code(1), "近亲属关系", "配偶任会计"], ["JC009", code(1), "其他利害关系", ""],
            ["JC001", code(2), "其他利害关系", ""], ["JC001", code(1), "其他利害关系", "重复"]]
    r = upload(staff, "conflicts", xlsx(hs, rows))
    page = staff.get(r.headers["Location"]).text
    assert "第 3 行：执法人员工号 JC009 不在本部门的执法检查人员名录库中" in page
    assert f"第 4 行：统一社会信用代码 {code(2)} 不在本部门的检查对象名录库中" in page
    assert f"第 5 行：工号 JC001 与单位 {code(1)} 的回避关系与第 2 行重复" in page

    job = job_of(app, upload(staff, "conflicts", xlsx(hs, rows[:1])))
    assert job.created == 1
    job = job_of(app, upload(staff, "conflicts", xlsx(hs, [["JC001", code(1), "曾在该单位任职", "2019 年前在该单位"]])))
    assert (job.created, job.updated) == (0, 1)
    with app.app_context():
        c = db.session.execute(select(Conflict)).scalar_one()
        assert (c.kind, c.inspector.staff_no, c.target.credit_code, c.declared_by.username) == (
            "former_employer", "JC001", code(1), "staff_jc")
