"""Importing the target directory: all-or-nothing, every bad row named, upserts by credit code."""
import json

from sqlalchemy import func, select

from ssj.extensions import db
from ssj.models import AccessLogEntry, ImportRowError, Target
from tests.conftest import post

from .conftest import bad_check, code, headers, job_of, target_row, upload, xlsx


def _targets(app) -> dict[str, Target]:
    with app.app_context():
        rows = db.session.execute(select(Target)).scalars().all()
        for r in rows:
            db.session.expunge(r)
        return {t.credit_code: t for t in rows}


def test_file_with_bad_rows_writes_nothing_and_names_every_bad_row(app, login_as, townships):
    staff = login_as("staff")
    wrong_code, right_char = bad_check(code(3))
    rows = [
        target_row(1),                                           # row 2: fine
        target_row(3, **{"统一社会信用代码": wrong_code}),        # row 3: check character
        target_row(4, **{"乡镇（街道）": "火星镇"}),               # row 4: unknown township
        target_row(1, **{"单位名称": "另一个名字"}),               # row 5: same code as row 2
        target_row(6, **{"单位名称": ""}),                         # row 6: required value missing
        target_row(7, **{"信用等级(A/B/C/D)": "E", "被投诉举报次数": "很多"}),  # row 7: two problems
        target_row(8),                                           # row 8: fine
    ]
    r = upload(staff, "targets", xlsx(headers("targets"), rows))
    job = job_of(app, r)
    assert job.state == "rejected"
    assert job.error_count == 5 and job.valid_rows == 2

    page = staff.get(r.headers["Location"]).text
    assert f"第 3 行：统一社会信用代码校验位错误：最后一位应为 {right_char}，而不是 {wrong_code[-1]}" in page
    assert "第 4 行：乡镇（街道）“火星镇”不在系统的乡镇（街道）列表中" in page
    assert f"第 5 行：统一社会信用代码 {code(1)} 与第 2 行重复" in page
    assert "第 6 行：单位名称未填写（必填）" in page
    assert "第 7 行：" in page and "被投诉举报次数应为整数" in page and "信用等级应为" in page
    assert "第 2 行" not in page.replace("与第 2 行重复", "")
    assert "没有导入任何数据" in page
    assert _targets(app) == {}


def test_good_file_creates_and_same_file_again_changes_nothing(app, login_as, townships):
    staff = login_as("staff")
    body = xlsx(headers("targets"), [target_row(n) for n in range(1, 6)])
    first = job_of(app, upload(staff, "targets", body))
    assert (first.state, first.created, first.updated, first.unchanged) == ("done", 5, 0, 0)
    targets = _targets(app)
    assert set(targets) == {code(n) for n in range(1, 6)}
    with app.app_context():
        t = db.session.execute(select(Target).where(Target.credit_code == code(1))).scalar_one()
        assert (t.name, t.is_small_micro, t.township.name, t.contact) == ("商水县测试1有限公司", True, "东城街道", "0394-5420000")
    stamps = {c: t.updated_at for c, t in targets.items()}

    again = job_of(app, upload(staff, "targets", body))
    assert (again.state, again.created, again.updated, again.unchanged) == ("done", 0, 0, 5)
    assert {c: t.updated_at for c, t in _targets(app).items()} == stamps  # not rewritten


def test_changed_row_is_updated_and_only_that_row(app, login_as, townships):
    staff = login_as("staff")
    upload(staff, "targets", xlsx(headers("targets"), [target_row(n) for n in range(1, 4)]))
    rows = [target_row(1), target_row(2, **{"信用等级(A/B/C/D)": "D", "乡镇（街道）": "黄寨镇"}), target_row(3)]
    job = job_of(app, upload(staff, "targets", xlsx(headers("targets"), rows)))
    assert (job.created, job.updated, job.unchanged) == (0, 1, 2)
    with app.app_context():
        t = db.session.execute(select(Target).where(Target.credit_code == code(2))).scalar_one()
        assert t.credit_grade == "D" and t.township.name == "黄寨镇" and t.is_special


def test_targets_belong_to_the_uploaders_department(app, login_as, townships):
    body = xlsx(headers("targets"), [target_row(1)])
    job_of(app, upload(login_as("staff"), "targets", body))
    partner = job_of(app, upload(login_as("staff_scj"), "targets", body))
    assert partner.created == 1  # the same enterprise, separately in the partner department's directory
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Target)).scalar_one() == 2


def test_all_digit_code_stored_as_a_number_is_explained(app, login_as, townships):
    staff = login_as("staff")
    row = target_row(1, **{"统一社会信用代码": 914116231234567890})
    job = job_of(app, upload(staff, "targets", xlsx(headers("targets"), [row])))
    assert job.state == "rejected"
    with app.app_context():
        message = db.session.execute(select(ImportRowError.message)).scalar_one()
    assert "被 Excel 存成了数字" in message


def test_columns_in_another_order_and_blank_rows_are_fine(app, login_as, townships):
    staff = login_as("staff")
    hs = headers("targets")
    order = list(reversed(range(len(hs))))
    rows = [[target_row(1)[i] for i in order], [None] * len(hs), [target_row(2)[i] for i in order]]
    job = job_of(app, upload(staff, "targets", xlsx([hs[i] for i in order], rows)))
    assert (job.state, job.created) == ("done", 2)


def test_wrong_header_is_one_clear_message(app, login_as, townships):
    staff = login_as("staff")
    r = upload(staff, "targets", xlsx(["代码", "名称"], [["x", "y"]]))
    job = job_of(app, r)
    assert job.state == "rejected" and job.error_count == 0
    page = staff.get(r.headers["Location"]).text
    assert "表头与模板不一致" in page and "“统一社会信用代码”" in page and "“信用等级(A/B/C/D)”" in page
    assert "请下载模板" in page


def test_a_file_of_another_directory_is_recognised(app, login_as, townships):
    staff = login_as("staff")
    r = upload(staff, "targets", xlsx(headers("inspectors"), [["JC1", "王五", "劳动保障监察大队", "证1", "2030-01-01", "", "在岗"]]))
    assert "这似乎是“执法检查人员名录库”的文件" in staff.get(r.headers["Location"]).text


def test_import_is_logged_at_start_and_end(app, login_as, townships):
    staff = login_as("staff")
    job = job_of(app, upload(staff, "targets", xlsx(headers("targets"), [target_row(1), target_row(2)])))
    with app.app_context():
        bodies = [json.loads(b) for b in db.session.execute(
            select(AccessLogEntry.body).where(AccessLogEntry.action == "import").order_by(AccessLogEntry.seq)
        ).scalars()]
    assert [b["objects"]["phase"] for b in bodies] == ["start", "end"]
    end = bodies[1]["objects"]
    assert end["job"] == job.id and end["file_sha256"] == job.file_sha256 and end["rows"] == 2
    assert end["kind"] == "targets" and end["created"] == 2
    assert bodies[1]["username"] == "staff_jc"


def test_accept_valid_subset_is_an_explicit_second_step(app, login_as, townships):
    staff = login_as("staff")
    rows = [target_row(1), target_row(2, **{"信用等级(A/B/C/D)": "Z"}), target_row(3)]
    r = upload(staff, "targets", xlsx(headers("targets"), rows))
    rejected = job_of(app, r)
    page = staff.get(r.headers["Location"]).text
    assert "仅导入有效的 2 行" in page
    assert _targets(app) == {}

    r2 = post(staff, f"/imports/jobs/{rejected.token}/accept-valid")
    subset = job_of(app, r2)
    assert (subset.state, subset.created, subset.error_count) == ("done", 2, 1)
    assert set(_targets(app)) == {code(1), code(3)}
    page = staff.get(r2.headers["Location"]).text
    assert "已按您的选择跳过 1 行有错误的行" in page and "第 3 行：信用等级" in page

    # The rejected job now points at the follow-up and cannot be accepted twice.
    assert "查看那次导入的结果" in staff.get(r.headers["Location"]).text
    again = post(staff, f"/imports/jobs/{rejected.token}/accept-valid")
    assert again.status_code == 303 and job_of(app, again).token == rejected.token


def test_a_failed_write_rolls_back_every_batch(app, login_as, townships, monkeypatch):
    from ssj.imports import jobs
    from ssj.imports.kinds.targets import Targets

    monkeypatch.setattr(jobs, "BATCH", 2)
    monkeypatch.setattr(jobs, "STAGE_BATCH", 2)
    real_stage = Targets.stage
    calls = []

    def write_then_fail(self, batch, job_id, **kw):
        calls.append(len(batch))
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real_stage(self, batch, job_id, **kw)

    monkeypatch.setattr(Targets, "stage", write_then_fail)
    staff = login_as("staff")
    job = job_of(app, upload(staff, "targets", xlsx(headers("targets"), [target_row(n) for n in range(1, 6)])))
    assert calls[:2] == [2, 2]
    assert job.state == "failed" and job.created == 0
    assert _targets(app) == {}  # the first batch was written, then undone


def test_thousands_of_bad_rows_are_paged_and_downloadable(app, login_as, townships):
    staff = login_as("staff")
    rows = [target_row(n, **{"信用等级(A/B/C/D)": "X"}) for n in range(1, 251)]
    r = upload(staff, "targets", xlsx(headers("targets"), rows))
    job = job_of(app, r)
    assert job.error_count == 250
    first = staff.get(r.headers["Location"]).text
    assert "第 101 行：" in first and "第 102 行：" not in first and "第 1 / 3 页" in first
    third = staff.get(r.headers["Location"] + "?page=3").text
    assert "第 251 行：" in third and "第 101 行：" not in third

    import io

    import openpyxl

    download = staff.get(f"/imports/jobs/{job.token}/errors.xlsx")
    assert download.status_code == 200
    ws = openpyxl.load_workbook(io.BytesIO(download.data), read_only=True).worksheets[0]
    values = list(ws.iter_rows(values_only=True))
    assert values[0] == ("行号", "问题及修改方法") and len(values) == 251
    assert values[1][0] == 2 and "信用等级" in values[1][1]
