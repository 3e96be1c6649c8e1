"""Files built to exhaust the server are refused quickly, clearly and without writing anything (issue #11).

The limits are made small here so each hostile file stays small and the
tests fast; bench/hostile_imports.py runs the full-size files against the
default limits and reports time and memory.
"""
from __future__ import annotations

import io
import zipfile
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from ssj.extensions import db
from ssj.imports import bounded
from ssj.models import ImportJob, ImportRowError, Target

from . import hostile
from .conftest import job_of, upload

SMALL = {"sheet_bytes": 2 << 20, "strings_bytes": 1 << 20, "total_bytes": 4 << 20, "ratio_from": 256 << 10,
         "rows": 200, "empty_rows": 500, "cells_per_row": 40}


@pytest.fixture
def small_limits(app):
    app.config["IMPORT_LIMITS"] = SMALL
    yield
    app.config["IMPORT_LIMITS"] = {}


def counts(app) -> tuple[int, int, int]:
    with app.app_context():
        return tuple(db.session.scalar(select(func.count()).select_from(m)) for m in (Target, ImportJob, ImportRowError))


def refused_at_upload(app, client, body: bytes, words: str) -> str:
    r = upload(client, "targets", body)
    assert r.status_code == 422, r.status_code
    assert words in r.text
    assert counts(app) == (0, 0, 0)  # no job, no row, no error
    return r.text


def rejected_job(app, client, body: bytes, words: str) -> ImportJob:
    job = job_of(app, upload(client, "targets", body))
    assert job.state == "rejected" and words in job.message, job.message
    assert counts(app)[0] == 0
    page = client.get(f"/imports/jobs/{job.token}").text
    assert words in page
    return job


@pytest.mark.parametrize("build", [hostile.cell_bomb, hostile.whitespace_bomb, hostile.shared_strings_bomb])
def test_a_bomb_is_refused_at_upload_by_its_declared_size(app, login_as, townships, small_limits, build):
    body = build(3 << 20)
    assert len(body) < 64 << 10  # kilobytes that would inflate to megabytes (gigabytes in the bench)
    refused_at_upload(app, login_as("staff"), body, "系统拒绝读取")


def test_the_compression_ratio_is_checked_with_default_limits(app, login_as, townships):
    # 40 MB inflated is under every size limit; the ratio gives it away.
    page = refused_at_upload(app, login_as("staff"), hostile.cell_bomb(40 << 20), "压缩比异常")
    assert "压缩炸弹" in page


def test_a_member_that_lies_about_its_size_is_stopped_while_reading(app, login_as, townships, small_limits):
    # Declared 1 KB, inflates to 3 MB: the upload check passes; the counted stream stops it.
    body = hostile.lie_about_size(hostile.whitespace_bomb(3 << 20), "xl/worksheets/sheet1.xml", 1024)
    with zipfile.ZipFile(io.BytesIO(body)) as z:
        assert z.getinfo("xl/worksheets/sheet1.xml").file_size == 1024
    job = job_of(app, upload(login_as("staff"), "targets", body))
    assert job.state == "rejected" and counts(app)[0] == 0


def test_the_counted_stream_stops_at_its_limit_whatever_was_declared(tmp_path):
    path = tmp_path / "w.xlsx"
    path.write_bytes(hostile.whitespace_bomb(3 << 20))
    limits = bounded.Limits(sheet_bytes=1 << 20, ratio=10**9)
    with zipfile.ZipFile(path) as plain:
        assert plain.getinfo("xl/worksheets/sheet1.xml").file_size > 3 << 20
    z = zipfile.ZipFile(path)
    # Past check_package (as if the header had lied): reading is still capped.
    z.__class__ = bounded.BoundedZip
    z.limits, z._budget = limits, [limits.total_bytes]
    with pytest.raises(bounded.FileProblem, match="已读到"):
        with z.open("xl/worksheets/sheet1.xml") as f:
            f.read()


def test_blank_rows_stop_at_the_blank_row_limit(app, login_as, townships, small_limits):
    job = rejected_job(app, login_as("staff"), hostile.blank_rows(600), "超过 500 个空行")
    assert job.valid_rows == 0


def test_a_million_blank_rows_are_refused_before_parsing(app, login_as, townships):
    job = rejected_job(app, login_as("staff"), hostile.blank_rows(1_000_000), "含空行")
    assert job.rows_done == 0


def test_too_many_rows_are_refused_before_checking_any(app, login_as, townships, small_limits):
    job = rejected_job(app, login_as("staff"), hostile.valid(800), "超过了单次导入 200 行")
    assert job.rows_done == 0  # counted in the raw XML, not checked row by row


def test_a_row_wider_than_the_limit_is_refused(app, login_as, townships, small_limits):
    rejected_job(app, login_as("staff"), hostile.wide_rows(3, 60), "超过 40 个单元格")


def test_a_cell_at_column_xfd_costs_nothing(app, login_as, townships):
    job = job_of(app, upload(login_as("staff"), "targets", hostile.far_cell(50)))
    assert job.state == "done" and job.created == 50


def test_long_cells_give_short_row_errors(app, login_as, townships):
    rejected_job(app, login_as("staff"), hostile.long_cells(30, 10_000), "30 行有错误")
    with app.app_context():
        messages = db.session.execute(select(ImportRowError.message)).scalars().all()
    assert len(messages) == 30
    assert max(len(m) for m in messages) <= 600
    quotes = [q.split("”")[0] for m in messages for q in m.split("“")[1:]]
    assert quotes and max(len(q) for q in quotes) <= 50  # a quote is at most 50 characters
    assert "不能超过 200 个字（现为 10000 个字）" in messages[0]


def test_a_cell_longer_than_excel_allows_is_a_row_error(app, login_as, townships):
    staff = login_as("staff")
    job = rejected_job(app, staff, hostile.long_cells(2, 40_000), "2 行有错误")
    page = staff.get(f"/imports/jobs/{job.token}").text
    assert "单位名称有 40,000 个字，超出了系统读取单元格的长度上限" in page


def test_xml_entities_are_refused(app, login_as, townships):
    def sheet():
        yield ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
               f'<worksheet xmlns="{hostile.MAIN}"><sheetData>' + hostile.row_xml(1, hostile.HEADERS)
               + '<row r="2"><c r="A2" t="inlineStr"><is><t>&b;</t></is></c></row></sheetData></worksheet>')
    rejected_job(app, login_as("staff"), hostile.package(sheet), "DOCTYPE")


def running_job(app, username: str, kind: str = "targets") -> int:
    """A job that some worker is reading right now."""
    from ssj.models import User

    with app.app_context():
        user = db.session.execute(select(User).where(User.username == username)).scalar_one()
        job = ImportJob(token=f"t-{username}", kind=kind, user_id=user.id, department_id=user.department_id,
                        filename="x.xlsx", file_sha256="0" * 64, state="validating")
        db.session.add(job)
        db.session.commit()
        return job.id


def test_one_running_import_per_person_and_a_few_in_all(app, login_as, townships):
    from ssj.imports import jobs
    from tests.conftest import BY_ROLE

    staff = login_as("staff")
    mine = running_job(app, BY_ROLE["staff"])
    waiting = job_of(app, upload(staff, "targets", hostile.valid(3)))
    assert waiting.state == "queued"
    assert "排队中" in staff.get(f"/imports/jobs/{waiting.token}").text

    # The person's own import ends, but the system is full: still waiting, and told why.
    # (other directories: the same directory of the same department would queue it anyway, below)
    others = [running_job(app, BY_ROLE[role], "inspectors") for role in ("supervisor", "section_head")]
    with app.app_context():
        db.session.get(ImportJob, mine).state = "done"
        db.session.commit()
        jobs.run(waiting.id, in_request=False)
        assert db.session.get(ImportJob, waiting.id).state == "queued"
    page = staff.get(f"/imports/jobs/{waiting.token}").text
    assert "全系统同时最多进行 2 个导入" in page

    with app.app_context():
        db.session.get(ImportJob, others[0]).state = "done"
        db.session.commit()
        assert jobs._next_startable() == waiting.id
        jobs.run(waiting.id, in_request=False)
        assert db.session.get(ImportJob, waiting.id).state == "done"
    assert counts(app)[0] == 3


def test_one_import_at_a_time_into_a_departments_directory(app, login_as, townships):
    """A colleague's running target import of the same department queues mine: the two would
    stage the same credit codes (issue #13)."""
    from ssj.imports import jobs
    from tests.conftest import BY_ROLE

    colleague = running_job(app, BY_ROLE["section_head"])
    waiting = job_of(app, upload(login_as("staff"), "targets", hostile.valid(3)))
    assert waiting.state == "queued"
    with app.app_context():
        db.session.get(ImportJob, colleague).state = "done"
        db.session.commit()
        jobs.run(waiting.id, in_request=False)
        assert db.session.get(ImportJob, waiting.id).state == "done"
    assert counts(app)[0] == 3


def test_old_jobs_are_purged_with_their_error_rows(app, login_as, townships):
    from ssj import clock

    staff = login_as("staff")
    old = job_of(app, upload(staff, "targets", hostile.long_cells(3, 300)))
    assert old.state == "rejected" and counts(app)[2] == 3
    with app.app_context():
        db.session.get(ImportJob, old.id).started_at = clock.now() - app.config["IMPORT_KEEP_JOBS"] - timedelta(hours=1)
        db.session.commit()
    fresh = job_of(app, upload(staff, "targets", hostile.valid(2)))  # an upload purges
    assert fresh.state == "done"
    with app.app_context():
        tokens = db.session.execute(select(ImportJob.token)).scalars().all()
    assert tokens == [fresh.token]
    assert counts(app)[1:] == (1, 0)
