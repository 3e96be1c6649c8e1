"""Publication reads the inspection area's records: results on the notice and the
exports, records and decrypted evidence in the archive (Art 9, 10, 13)."""
from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import date, timedelta

from sqlalchemy import select

from ssj.extensions import db
from ssj.models import AccessLogEntry
from ssj.publication import archive
from tests.conftest import login, post
from tests.exports.support import export_task
from tests.inspections.conftest import build_drawn, record_url, submit
from tests.inspections.test_printables import DOCUMENTS, notice_form

from .conftest import publish, set_publish_date

PHOTO = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + "工资台账照片-归档-5d2e".encode() * 40


def _as(app, username):
    c = app.test_client()
    assert login(c, username).status_code == 302
    return c


def test_results_handling_records_and_evidence_reach_notice_exports_and_archive(app, login_as):
    drawn = build_drawn(app, login_as)
    position = 1
    member = _as(app, drawn.member(position))
    assert submit(member, drawn, position).status_code == 302
    r = post(member, record_url(drawn.task_id, position, "evidence"),
             {"file": (io.BytesIO(PHOTO), "台账.png"), "note": "工资台账"}, content_type="multipart/form-data")
    assert r.status_code == 302, r.text
    assert post(member, record_url(drawn.task_id, position, "notice"), notice_form()).status_code == 302
    set_publish_date(app, drawn.task_id, date.today() - timedelta(days=1))
    publish(login_as, drawn.task_id)

    page = app.test_client().get(f"/public/results/{drawn.task_id}").text
    assert "JC-T-01 用人单位遵守劳动保障法律法规情况" in page and "依据：《劳动保障监察条例》" in page
    assert "发现问题已责令改正" in page and "责令改正（改正期限 2026-03-20）" in page
    assert "2026-03-03" in page  # the day the inspection ended
    assert "责令十日内补发工资" not in page  # free-text detail stays in the archive
    assert "未录入" not in page  # publication needs every record (SPEC §4)

    rows = list(csv.reader(io.StringIO(
        export_task(login_as("staff"), drawn.task_id, "results.csv").data.decode("utf-8-sig")
    )))
    mine = next(row for row in rows[1:] if row[2] == drawn.code_of[position])
    assert mine[4:7] == ["2026-03-03", "发现问题已责令改正", "责令改正（改正期限 2026-03-20）"]

    data = export_task(login_as("supervisor"), drawn.task_id, "archive.zip").data
    assert archive.check(data) == []
    with app.app_context():  # the log counts evidence files but never carries their original names
        entry = db.session.execute(select(AccessLogEntry).where(AccessLogEntry.action == "archive_downloaded")).scalar_one()
        assert "台账.png" not in entry.body and json.loads(entry.body)["objects"]["evidence_files"] == 1
    z = zipfile.ZipFile(io.BytesIO(data))
    record = json.loads(z.read(f"inspections/{position:03d}/record.json"))
    assert record["state"] == "submitted" and record["record"]["handling_detail"] == "责令十日内补发工资。"
    evidence = [n for n in z.namelist() if n.startswith(f"inspections/{position:03d}/evidence/")]
    assert len(evidence) == 1 and evidence[0].endswith(".png") and "台账" not in evidence[0]  # a generated name
    assert z.read(evidence[0]) == PHOTO  # decrypted, byte for byte
    (listed,) = json.loads(z.read(f"inspections/{position:03d}/evidence.json"))
    assert listed["original_name"] == "台账.png" and evidence[0].endswith("/" + listed["file"])
    notice = json.loads(z.read(f"inspections/{position:03d}/notice.json"))
    assert notice["notice"]["target"]["credit_code"] == drawn.code_of[position]
    assert all(d in notice["notice"]["documents"] for d in DOCUMENTS)
