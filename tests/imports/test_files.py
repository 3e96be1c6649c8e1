"""Templates, exports, wrong formats, permissions and the background path of imports."""
import io
import json

import openpyxl
import pytest
from sqlalchemy import select

from ssj.extensions import db
from ssj.imports import jobs
from ssj.models import AccessLogEntry, ExportJob, ImportJob, Target

from tests.conftest import post
from tests.exports.support import export_directory

from .conftest import headers, job_of, target_row, upload, xlsx
from .test_directories import inspector_row, matter_row

KINDS = ("matters", "inspectors", "targets", "conflicts")


@pytest.mark.parametrize("kind", KINDS)
def test_template_has_headers_help_sheet_and_imports_as_nothing(app, login_as, kind):
    staff = login_as("staff")
    r = staff.get(f"/imports/{kind}/template.xlsx")
    assert r.status_code == 200 and r.mimetype.endswith("spreadsheetml.sheet")
    wb = openpyxl.load_workbook(io.BytesIO(r.data))
    data, guide = wb.worksheets
    assert [c.value for c in data[1]] == headers(kind) and data.max_row == 1
    assert guide.title == "填写说明"
    guide_text = "\n".join(str(v) for row in guide.iter_rows(values_only=True) for v in row if v)
    assert all(h in guide_text for h in headers(kind)) and "示例" in guide_text

    job = job_of(app, upload(staff, kind, r.data))
    assert (job.state, job.created, job.updated) == ("done", 0, 0)
    assert "文件中没有数据行" in staff.get(f"/imports/jobs/{job.token}").text


def test_export_then_reimport_changes_nothing(app, login_as, townships):
    staff = login_as("staff")
    upload(staff, "matters", xlsx(headers("matters"), [
        matter_row("M-1", **{"抽查比例(%)": "1.5", "抽查内容": "甲；乙；丙", "抽查依据": "第一条；\n第二条"}),
        matter_row("M-2", **{"责任科室": "", "状态": "暂停"})]))
    upload(staff, "inspectors", xlsx(headers("inspectors"), [
        inspector_row("JC001"), inspector_row("JC002", **{"状态(在岗/休假/已调离)": "借调", "专业特长": ""})]))
    upload(staff, "targets", xlsx(headers("targets"), [
        target_row(1), target_row(2, **{"乡镇（街道）": None, "小微企业(是/否)": None, "联系电话": 13800000000,
                                        "经营状态(存续/注销/吊销/迁出)": "吊销", "被投诉举报次数": 4})]))
    hs = headers("conflicts")
    from .conftest import code
    upload(staff, "conflicts", xlsx(hs, [["JC001", code(1), "近亲属关系", "配偶"]]))

    for kind in KINDS:
        exported = export_directory(staff, kind)
        assert exported.status_code == 200 and exported.headers["Cache-Control"] == "no-store"
        rows = list(openpyxl.load_workbook(io.BytesIO(exported.data), read_only=True).worksheets[0]
                    .iter_rows(values_only=True))
        assert list(rows[0]) == headers(kind) and len(rows) > 1
        job = job_of(app, upload(staff, kind, exported.data, f"{kind}.xlsx"))
        assert (kind, job.state, job.created, job.updated, job.unchanged) == (kind, "done", 0, 0, len(rows) - 1)

    with app.app_context():
        exports = [json.loads(b)["objects"] for b in db.session.execute(
            select(AccessLogEntry.body).where(AccessLogEntry.action == "export")).scalars()]
    # The download is the export entry, with what the file held and its fingerprint.
    assert any(e["kind"] == "targets" and e["rows"] == 2 and len(e["sha256"]) == 64 for e in exports)


def test_supervisor_exports_but_cannot_import(app, login_as, townships):
    upload(login_as("staff"), "targets", xlsx(headers("targets"), [target_row(1)]))
    supervisor = login_as("supervisor")
    r = export_directory(supervisor, "targets")
    assert r.status_code == 200
    assert len(list(openpyxl.load_workbook(io.BytesIO(r.data), read_only=True).worksheets[0].rows)) == 2
    assert supervisor.get("/imports/targets").status_code == 403
    assert upload(supervisor, "targets", xlsx(headers("targets"), [target_row(2)])).status_code == 403


@pytest.mark.parametrize("role", ["inspector", "discipline", "admin"])
def test_other_roles_are_refused(app, login_as, role):
    client = login_as(role)
    for kind in KINDS:
        assert client.get(f"/imports/{kind}").status_code == 403
        assert client.get(f"/imports/{kind}/template.xlsx").status_code == 403
        assert client.get(f"/exports/{kind}").status_code == 403
        assert post(client, f"/exports/{kind}").status_code == 403
        assert upload(client, kind, xlsx(headers(kind), [])).status_code == 403
    with app.app_context():
        assert db.session.execute(select(ImportJob)).first() is None
        assert db.session.execute(select(ExportJob)).first() is None


def test_someone_elses_job_does_not_exist_for_you(app, login_as, townships):
    r = upload(login_as("staff"), "targets", xlsx(headers("targets"), [target_row(1)]))
    job = job_of(app, r)
    other = login_as("head_jc")
    assert other.get(f"/imports/jobs/{job.token}").status_code == 404
    assert other.get(f"/imports/jobs/{job.token}/errors.xlsx").status_code == 404


@pytest.mark.parametrize("filename, body, expected", [
    ("名录.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "旧版 Excel 97-2003 格式"),
    ("名录.csv", "统一社会信用代码,单位名称\n".encode(), "是文本文件（.csv）"),
    ("名录.xlsx", b"this is not a zip file at all", "不是有效的 .xlsx 工作簿"),
    ("名录.xlsx", b"PK\x03\x04 broken zip", "不是有效的 .xlsx 工作簿"),
    ("名录.pdf", b"%PDF-1.7", "只能导入 .xlsx 格式"),
    ("名录.xlsx", b"", "是空的"),
])
def test_other_formats_are_refused_with_a_reason(app, login_as, filename, body, expected):
    staff = login_as("staff")
    r = upload(staff, "targets", body, filename)
    assert r.status_code == 422
    assert expected in r.text and "上传" in r.text
    with app.app_context():
        assert db.session.execute(select(ImportJob)).first() is None
    assert not list(jobs_dir(app).glob("*.xlsx"))


def jobs_dir(app):
    with app.app_context():
        return jobs.upload_dir()


def test_no_file_chosen(app, login_as):
    r = post(login_as("staff"), "/imports/targets", {})
    assert r.status_code == 422 and "请先选择要上传的 .xlsx 文件" in r.text


def test_upload_page_lists_the_persons_recent_jobs(app, login_as, townships):
    staff = login_as("staff")
    upload(staff, "targets", xlsx(headers("targets"), [target_row(1)]), "一月名录.xlsx")
    page = staff.get("/imports/inspectors").text
    assert "一月名录.xlsx" in page and "已完成" in page
    assert "一月名录.xlsx" not in login_as("head_jc").get("/imports/targets").text


def test_background_job_reports_progress_and_finishes(app, login_as, townships, monkeypatch):
    app.config["IMPORT_RUN_INLINE"] = False
    monkeypatch.setattr(jobs, "PROGRESS_EVERY", 3)
    staff = login_as("staff")
    r = upload(staff, "targets", xlsx(headers("targets"), [target_row(n) for n in range(1, 11)]))
    token = r.headers["Location"].rsplit("/", 1)[1]
    r.close()  # the WSGI server closes the response after sending it; that starts the thread
    jobs.wait_for_jobs(timeout=60)
    fragment = staff.get(f"/imports/jobs/{token}", headers={"HX-Request": "true"})
    assert "HX-Request" in fragment.headers["Vary"]
    assert "<html" not in fragment.text and "导入完成：新增 10 条" in fragment.text
    assert "hx-trigger" not in fragment.text  # finished: polling stops
    with app.app_context():
        assert len(db.session.execute(select(Target)).all()) == 10


def test_running_job_page_polls_and_works_without_javascript(app, login_as, townships):
    app.config["IMPORT_RUN_INLINE"] = False
    staff = login_as("staff")
    r = upload(staff, "targets", xlsx(headers("targets"), [target_row(1)]))
    # Not closed yet, so the job is still queued: exactly what a person sees first.
    page = staff.get(r.headers["Location"]).text
    assert 'hx-trigger="every 1s"' in page and "刷新进度" in page and "<progress" in page
    r.close()
    jobs.wait_for_jobs(timeout=60)


def test_a_file_that_breaks_half_way_is_rejected_whole(app, login_as, townships):
    import zipfile

    good = xlsx(headers("targets"), [target_row(n) for n in range(1, 41)])
    broken = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as src, zipfile.ZipFile(broken, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename.startswith("xl/worksheets/sheet"):
                data = data[: len(data) // 2]  # cut off in the middle of the rows
            dst.writestr(item, data)
    staff = login_as("staff")
    r = upload(staff, "targets", broken.getvalue())
    job = job_of(app, r)
    assert job.state == "rejected" and job.valid_rows == 0
    page = staff.get(r.headers["Location"]).text
    assert "无法继续读取" in page and "仅导入有效" not in page
    with app.app_context():
        assert db.session.execute(select(Target)).first() is None
