"""Exports as background jobs: progress, leaving and coming back, ownership, encryption at rest, failure, purge."""
from __future__ import annotations

import io
import json
import tempfile
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select

from ssj.exports import jobs
from ssj.extensions import db
from ssj.imports.kinds import KINDS
from ssj.models import AccessLogEntry, Department, ExportJob, Target, User
from tests.ceremony.conftest import credit_code
from tests.conftest import post

from .support import download, start

UNIT = "商水县保密测试纺织有限公司"


@pytest.fixture
def targets(app):
    """Fifty targets of the bureau (RSJ), one of them with a name to look for on disk."""
    with app.app_context():
        rsj = db.session.execute(select(Department).where(Department.code == "RSJ")).scalar_one()
        names = [UNIT] + [f"商水县导出测试{n:02d}有限公司" for n in range(1, 50)]
        db.session.add_all(Target(department_id=rsj.id, credit_code=credit_code(), name=name) for name in names)
        db.session.commit()
    return names


def job_row(app, token: str) -> ExportJob:
    with app.app_context():
        job = db.session.execute(select(ExportJob).where(ExportJob.token == token)).scalar_one()
        db.session.expunge(job)
        return job


def export_files(app) -> list[Path]:
    with app.app_context():
        return sorted(jobs.export_dir().iterdir())


def entries(app, action: str) -> list[dict]:
    with app.app_context():
        bodies = db.session.execute(
            select(AccessLogEntry.body).where(AccessLogEntry.action == action).order_by(AccessLogEntry.seq)
        ).scalars()
        return [json.loads(b) for b in bodies]


def test_progress_is_visible_half_way_through_a_big_export(app, login_as, targets, monkeypatch):
    app.config["EXPORT_RUN_INLINE"] = False
    monkeypatch.setattr(jobs, "PROGRESS_EVERY", 10)
    reached, release = threading.Event(), threading.Event()

    def pause_half_way(job_id: int, done: int, total: int) -> None:
        if done == 20:
            reached.set()
            release.wait(60)

    monkeypatch.setattr(jobs, "progress_hooks", [pause_half_way])
    staff = login_as("staff")
    r = post(staff, "/exports/targets")
    assert r.status_code == 303
    token = r.headers["Location"].rsplit("/", 1)[1]
    r.close()  # the WSGI server closes the response after sending it; that starts the thread
    try:
        assert reached.wait(15), "the job never reached its 20th row"
        fragment = staff.get(f"/my/exports/{token}", headers={"HX-Request": "true"})
        assert "HX-Request" in fragment.headers["Vary"] and "<html" not in fragment.text
        assert 'hx-trigger="every 1s"' in fragment.text
        assert '<progress id="export-progress" max="50" value="20">' in fragment.text
        assert "已生成 20 / 50 行（40%）" in fragment.text
        page = staff.get(f"/my/exports/{token}").text  # without JavaScript: a link to refresh
        assert "刷新进度" in page and "我的导出" in page and f"/my/exports/{token}/file" not in page
    finally:
        release.set()
        jobs.wait_for_jobs(timeout=60)
    done = staff.get(f"/my/exports/{token}", headers={"HX-Request": "true"}).text
    assert "已生成，共 50 行" in done and "hx-trigger" not in done  # finished: polling stops
    rows = list(openpyxl.load_workbook(io.BytesIO(download(staff, token).data), read_only=True)
                .worksheets[0].iter_rows(values_only=True))
    assert len(rows) == 51 and UNIT in {r[1] for r in rows}


def test_leaving_and_coming_back_finds_the_finished_export(app, login_as, targets):
    staff = login_as("staff")
    token = start(staff, "/exports/targets")
    # Later, from the nav-less list of one's own exports:
    mine = staff.get("/my/exports").text
    assert f"/my/exports/{token}" in mine and "已完成" in mine and f"/my/exports/{token}/file" in mine
    page = staff.get(f"/my/exports/{token}").text
    job = job_row(app, token)
    assert job.state == "done" and job.rows_done == 50
    assert job.file_sha256 in page and "自动删除" in page
    assert f"{KINDS['targets'].title}导出" in page
    # Somebody else's list does not show it.
    assert token not in login_as("head_jc").get("/my/exports").text


def test_another_user_cannot_download_and_the_attempt_is_logged(app, login_as, targets):
    owner = login_as("staff")
    token = start(owner, "/exports/targets")
    other = login_as("head_jc")  # same section, higher rank: still not theirs
    assert other.get(f"/my/exports/{token}/file").status_code == 404
    assert other.get(f"/my/exports/{token}").status_code == 404
    refused = [e for e in entries(app, "read:exports.download") if e["username"] == "head_jc"]
    assert len(refused) == 1
    assert refused[0]["outcome"] == "denied" and refused[0]["reason"] == "not_owner"
    assert not [e for e in entries(app, "export") if e["username"] == "head_jc"]
    # The owner still gets it, and the download names the file's fingerprint.
    r = download(owner, token)
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    (logged,) = entries(app, "export")
    assert logged["username"] == "staff_jc" and logged["objects"]["sha256"] == job_row(app, token).file_sha256
    import hashlib

    assert hashlib.sha256(r.data).hexdigest() == logged["objects"]["sha256"]


def test_the_file_at_rest_holds_no_unit_name_and_no_plaintext_temporary_file_is_left(app, login_as, targets):
    before = set(Path(tempfile.gettempdir()).glob("openpyxl.*"))
    staff = login_as("staff")
    token = start(staff, "/exports/targets")
    (stored,) = export_files(app)
    body = stored.read_bytes()
    assert UNIT.encode("utf-8") not in body and b"PK\x03\x04" not in body  # not even a zip to unpack
    with pytest.raises(Exception):
        openpyxl.load_workbook(io.BytesIO(body))
    assert stored.parent.stat().st_mode & 0o077 == 0  # instance/exports/ is the owner's alone
    assert set(Path(tempfile.gettempdir()).glob("openpyxl.*")) == before
    # What the owner downloads is the real workbook with the name in it.
    rows = openpyxl.load_workbook(io.BytesIO(download(staff, token).data), read_only=True).worksheets[0]
    assert UNIT in {r[1] for r in rows.iter_rows(values_only=True)}


def test_a_failed_job_says_so_in_chinese_and_leaves_no_file(app, login_as, targets, monkeypatch):
    real = KINDS["targets"].export_rows

    def breaks_after_three_rows(self):
        for n, row in enumerate(real(self)):
            if n == 3:
                raise RuntimeError("disk full")
            yield row

    monkeypatch.setattr(KINDS["targets"], "export_rows", breaks_after_three_rows)
    staff = login_as("staff")
    token = start(staff, "/exports/targets")
    job = job_row(app, token)
    assert job.state == "failed" and job.file_token is None and job.wrapped_key is None
    page = staff.get(f"/my/exports/{token}").text
    assert "生成导出文件时系统出错" in page and "重新导出" in page and "失败" in page
    assert "disk full" not in page and "Traceback" not in page
    assert f"/my/exports/{token}/file" not in page
    assert export_files(app) == []
    r = download(staff, token)
    assert r.status_code == 410 and "还没有生成好" in r.text
    assert entries(app, "job_export_failed") and not entries(app, "export")


def test_a_job_cut_off_by_a_restart_shows_as_interrupted_and_is_cleared(app, login_as, targets):
    staff = login_as("staff")
    token = start(staff, "/exports/targets")
    with app.app_context():
        job = db.session.execute(select(ExportJob).where(ExportJob.token == token)).scalar_one()
        job.state, job.updated_at = "running", datetime.now(timezone.utc) - timedelta(minutes=11)
        db.session.commit()
    page = staff.get(f"/my/exports/{token}").text
    assert "已中断" in page and "hx-trigger" not in page
    assert "已中断" in staff.get("/my/exports").text
    start(staff, "/exports/inspectors")  # the next job's purge clears the cut-off one
    job = job_row(app, token)
    assert job.state == "failed" and job.file_token is None
    assert len(export_files(app)) == 1


def test_files_are_purged_after_a_day(app, login_as, targets):
    staff = login_as("staff")
    token = start(staff, "/exports/targets")
    with app.app_context():
        job = db.session.execute(select(ExportJob).where(ExportJob.token == token)).scalar_one()
        job.created_at -= jobs.KEEP + timedelta(minutes=1)
        db.session.commit()
    start(staff, "/exports/matters")
    assert job_row(app, token).state == "expired" and len(export_files(app)) == 1
    assert "已过期被清理" in staff.get(f"/my/exports/{token}").text
    assert download(staff, token).status_code == 410


def test_a_file_past_its_day_is_not_served_even_before_a_purge(app, login_as, targets):
    staff = login_as("staff")
    token = start(staff, "/exports/targets")
    with app.app_context():
        job = db.session.execute(select(ExportJob).where(ExportJob.token == token)).scalar_one()
        job.created_at -= jobs.KEEP + timedelta(minutes=1)
        db.session.commit()
    r = download(staff, token)  # no later export has run its purge
    assert r.status_code == 410 and "已过期" in r.text


def test_the_download_checks_the_access_rules_again(app, login_as, targets):
    staff = login_as("staff")
    token = start(staff, "/exports/targets")
    with app.app_context():
        user = db.session.execute(select(User).where(User.username == "staff_jc")).scalar_one()
        scj = db.session.execute(select(Department).where(Department.code == "SCJ")).scalar_one()
        user.department_id, user.section_id = scj.id, None  # moved to the market regulator
        db.session.commit()
    assert download(staff, token).status_code == 403
    assert not entries(app, "export")


def test_a_tampered_file_is_not_served(app, login_as, targets):
    staff = login_as("staff")
    token = start(staff, "/exports/targets")
    (stored,) = export_files(app)
    body = bytearray(stored.read_bytes())
    body[len(body) // 2] ^= 0x01
    stored.write_bytes(bytes(body))
    r = download(staff, token)
    assert r.status_code == 500 and "文件校验失败" in r.text
    assert entries(app, "job_export_integrity_failure") and not entries(app, "export")


def test_directory_export_page_works_without_javascript(app, login_as):
    page = login_as("supervisor").get("/exports/targets").text
    assert 'method="post"' in page and 'name="csrf_token"' in page and "生成导出文件" in page
    assert "我的导出" in page


def test_the_target_list_exports_what_it_shows(app, login_as, targets):
    staff = login_as("staff")
    results = staff.get("/targets?q=%E4%BF%9D%E5%AF%86", headers={"HX-Request": "true"}).text  # q=保密
    link = "/exports/targets?q=%E4%BF%9D%E5%AF%86"
    assert link in results and "把这 1 个检查对象导出为 Excel" in results
    page = staff.get(link).text
    assert "导出 <strong>1</strong> 条" in page and "名称或信用代码“保密”" in page
    assert '<input type="hidden" name="q" value="保密">' in page
    token = start_with(staff, "/exports/targets", {"q": "保密"})
    assert "筛选条件" in staff.get(f"/my/exports/{token}").text
    r = download(staff, token)
    rows = list(openpyxl.load_workbook(io.BytesIO(r.data), read_only=True).worksheets[0].iter_rows(values_only=True))
    assert [row[1] for row in rows[1:]] == [UNIT]
    assert "筛选导出" in r.headers["Content-Disposition"] or "%E7%AD%9B%E9%80%89" in r.headers["Content-Disposition"]
    (logged,) = entries(app, "export")
    assert logged["objects"]["rows"] == 1 and logged["objects"]["filters"] == ["q"]
    assert "保密" not in json.dumps(logged, ensure_ascii=False)  # the typed term stays out of the log
    # Without filters the whole directory, as before.
    whole = download(staff, start(staff, "/exports/targets"))
    assert len(list(openpyxl.load_workbook(io.BytesIO(whole.data), read_only=True).worksheets[0].rows)) == 51


def start_with(client, url: str, data: dict) -> str:
    r = post(client, url, data)
    assert r.status_code == 303
    return r.headers["Location"].rsplit("/", 1)[1]
