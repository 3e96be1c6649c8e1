"""Results exports for the provincial platform (Art 16) and the archive package (Art 9)."""
from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile

from openpyxl import load_workbook
from sqlalchemy import select

from ssj.extensions import db
from ssj.models import ExportJob
from ssj.publication import archive

from tests.conftest import post
from tests.exports.support import export_task

from .conftest import log_entries, publish

HEADER = ["任务名称", "抽查事项", "统一社会信用代码", "单位名称", "检查日期", "检查结果", "处理情况", "结果公开日期",
          # the national credit-publicity 抽查检查结果 record (docs/results-export.md)
          "抽查任务编号", "检查实施机关", "抽查类型", "抽查完成日期"]


def test_csv_export_has_the_platform_columns_and_a_bom(app, drawn, login_as):
    publish(login_as, drawn.task_id)
    r = export_task(login_as("supervisor"), drawn.task_id, "results.csv")
    assert r.status_code == 200
    assert r.data.startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 only with the BOM
    rows = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))
    assert rows[0] == HEADER
    assert [row[2] for row in rows[1:]] == drawn.extra["codes"]
    assert {row[3] for row in rows[1:]} == {drawn.targets[c] for c in drawn.extra["codes"]}
    assert all(row[0] == "甲号工资支付专项抽查" and row[5] == "未发现问题" for row in rows[1:])
    # Every row carries the publicity record: task number, the inspecting authority, type, completion.
    last = max(row[4] for row in rows[1:])
    assert {tuple(row[9:]) for row in rows[1:]} == {("商水县人力资源和社会保障局", "双随机抽查", last)}
    assert {row[8] for row in rows[1:]} == {rows[1][8]} and rows[1][8].endswith(f"-{drawn.task_id:05d}")
    assert log_entries(app, "results_exported")


def test_xlsx_export_has_the_same_rows(app, drawn, login_as):
    publish(login_as, drawn.task_id)
    r = export_task(login_as("staff"), drawn.task_id, "results.xlsx")
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.data)).active
    values = [[c if c is not None else "" for c in row] for row in ws.iter_rows(values_only=True)]
    assert values[0] == HEADER
    assert [row[2] for row in values[1:]] == drawn.extra["codes"]


def test_exports_wait_for_publication(app, drawn, login_as):
    staff = login_as("staff")
    for what in ("results.csv", "results.xlsx", "archive.zip"):
        assert post(staff, f"/tasks/{drawn.task_id}/publication/{what}").status_code == 404
    with app.app_context():
        assert db.session.execute(select(ExportJob)).first() is None


def test_archive_manifest_matches_every_file(app, drawn, login_as):
    publish(login_as, drawn.task_id)
    r = export_task(login_as("head_jc"), drawn.task_id, "archive.zip")
    assert r.status_code == 200 and r.mimetype == "application/zip"
    z = zipfile.ZipFile(io.BytesIO(r.data))
    manifest = json.loads(z.read("manifest.json"))
    listed = {f["name"]: f for f in manifest["files"]}
    assert set(listed) == set(z.namelist()) - {"manifest.json"}
    assert {"notice.html", "bundle.json", "draw_record.html", "results.csv"} <= set(listed)
    for name, f in listed.items():
        assert hashlib.sha256(z.read(name)).hexdigest() == f["sha256"], name
    assert archive.check(r.data) == []
    # The bundle inside is the published one, byte for byte.
    public = app.test_client().get(f"/public/results/{drawn.task_id}/bundle.json").data
    assert z.read("bundle.json") == public
    notice = z.read("notice.html").decode()
    assert all(code in notice for code in drawn.extra["codes"])
    (entry,) = log_entries(app, "archive_downloaded")
    logged = json.loads(entry.body)["objects"]
    assert logged["sha256"] == hashlib.sha256(r.data).hexdigest() and "manifest.json" not in logged["files"]


def test_a_changed_file_fails_the_manifest_check(app, drawn, login_as):
    publish(login_as, drawn.task_id)
    data = export_task(login_as("staff"), drawn.task_id, "archive.zip").data
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name in src.namelist():
            body = src.read(name)
            z.writestr(name, body.replace(b"ssj-draw-v2", b"ssj-draw-v9") if name == "bundle.json" else body)
        z.writestr("extra.txt", b"slipped in")
    assert archive.check(out.getvalue()) == ["bundle.json: hash differs", "extra.txt: not in manifest"]


def test_archive_is_for_those_who_may_read_the_list(app, drawn, login_as):
    publish(login_as, drawn.task_id)
    assert post(login_as("staff_sb"), f"/tasks/{drawn.task_id}/publication/archive.zip").status_code == 403
    with app.app_context():
        assert db.session.execute(select(ExportJob)).first() is None
