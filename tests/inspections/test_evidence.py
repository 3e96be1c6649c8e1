"""Evidence files (SPEC §4, §7): encrypted at rest under random names, type checked by
content, size limited, downloaded only by those who may read the record, logged first."""
from __future__ import annotations

import io
import re
import os
from pathlib import Path

from sqlalchemy import func, select

from ssj.extensions import db
from ssj.models import AccessLogEntry, EvidenceFile
from tests.conftest import post

from .conftest import record_url, submit

# A real PNG header with a body nobody else would write.
SECRET_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + "工资台账照片-唯一内容-7f3a9c".encode() * 50


def _upload(client, drawn, position, name: str, body: bytes):
    return post(client, record_url(drawn.task_id, position, "evidence"),
                {"file": (io.BytesIO(body), name), "note": "工资台账"}, content_type="multipart/form-data")


def _all_bytes(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file())


def _count(app) -> int:
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(EvidenceFile)).scalar_one()


def test_evidence_is_encrypted_at_rest_and_names_nothing(app, login_as, drawn, instance_path, database_bytes):
    p = drawn.own_position()
    me = login_as("inspector_jc")
    submit(me, drawn, p, findings="独特的发现文字-b81e")
    name = drawn.name_of(p)
    r = _upload(me, drawn, p, f"{name}现场.png", SECRET_BYTES)
    assert r.status_code == 302, r.text
    assert _count(app) == 1
    store = Path(instance_path) / "evidence"
    files = list(store.iterdir())
    assert len(files) == 1
    assert name not in files[0].name and drawn.code_of[p] not in files[0].name
    assert oct(files[0].stat().st_mode & 0o777) == "0o600"
    evidence_bytes = _all_bytes(store)
    for needle in (SECRET_BYTES[16:80], name.encode(), drawn.code_of[p].encode(), f"{name}现场".encode()):
        assert needle not in evidence_bytes
    # The database holds neither the file nor its name nor the record's text: read as a
    # copy would hold it (SQLite's main file and WAL, so no checkpoint is needed; a pg_dump on PostgreSQL).
    database = database_bytes()
    assert name.encode() in database  # its directory row: proof the copy holds readable rows
    for needle in (SECRET_BYTES[16:80], f"{name}现场".encode(), "独特的发现文字-b81e".encode()):
        assert needle not in database

    page = me.get(record_url(drawn.task_id, p)).text
    assert f"{name}现场.png" in page
    with app.app_context():
        evidence_id = db.session.execute(select(EvidenceFile.id)).scalar_one()
    url = record_url(drawn.task_id, p, f"evidence/{evidence_id}")
    for who in ("inspector_jc", "head_jc"):
        r = login_as(who).get(url)
        assert r.status_code == 200 and r.data == SECRET_BYTES
        assert r.headers["Cache-Control"] == "no-store"
        assert r.headers["Content-Disposition"].startswith("attachment")
        assert name not in r.headers["Content-Disposition"]
    # 查看 shows the photo in the browser instead, logged the same way.
    page = login_as("inspector_jc").get(record_url(drawn.task_id, p)).text
    assert f'evidence/{evidence_id}?view=1' in page and ">查看</a>" in page
    r = login_as("inspector_jc").get(url + "?view=1")
    assert r.status_code == 200 and r.data == SECRET_BYTES and r.mimetype == "image/png"
    assert r.headers["Content-Disposition"].startswith("inline") and name not in r.headers["Content-Disposition"]
    with app.app_context():
        logged = db.session.execute(select(func.count()).select_from(AccessLogEntry).where(
            AccessLogEntry.action == "sealed_read:evidence_download")).scalar_one()
    assert logged == 3
    for who in ("admin", "discipline", "staff_sb"):
        assert login_as(who).get(url).status_code in (403, 404)
    other = drawn.foreign_position()
    if "inspector_jc" not in drawn.team_of[other]:
        assert login_as("inspector_jc").get(record_url(drawn.task_id, other, f"evidence/{evidence_id}")).status_code == 403


def test_a_file_whose_content_is_not_its_type_is_refused_and_nothing_is_stored(app, login_as, drawn, instance_path):
    p = drawn.own_position()
    me = login_as("inspector_jc")
    for name, body, words in (
        ("照片.jpg", b"MZ\x90\x00" + os.urandom(200), "内容与扩展名 .jpg 不符"),
        ("说明.exe", b"MZ\x90\x00" + os.urandom(200), "不支持"),
        ("表格.xlsx", b"PK\x03\x04" + os.urandom(200), "内容与扩展名 .xlsx 不符"),
        ("空.pdf", b"", "请选择要上传的证据文件"),
    ):
        r = _upload(me, drawn, p, name, body)
        assert r.status_code == 422, (name, r.status_code)
        assert words in r.text and "可以上传" in r.text or words in r.text
    assert _count(app) == 0
    store = Path(instance_path) / "evidence"
    assert not store.exists() or not any(store.iterdir())


def test_size_limit_gives_a_clear_message(app, login_as, drawn, instance_path):
    app.config["EVIDENCE_MAX_BYTES"] = 1024
    p = drawn.own_position()
    r = _upload(login_as("inspector_jc"), drawn, p, "大文件.pdf", b"%PDF-1.7\n" + b"0" * 4096)
    assert r.status_code == 413 and "超过了单个文件" in r.text
    assert _count(app) == 0


def test_real_office_video_and_heic_files_are_accepted(app, login_as, drawn):
    from openpyxl import Workbook

    buf = io.BytesIO()
    Workbook().save(buf)
    p = drawn.own_position()
    me = login_as("inspector_jc")
    samples = {
        "台账.xlsx": buf.getvalue(),
        "现场.mp4": b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"\x00" * 64,
        "现场.mov": b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00qt  " + b"\x00" * 64,
        "手机照片.heic": b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64,
        "旧文档.doc": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64,
        "通知.pdf": b"%PDF-1.4\n%%EOF\n",
    }
    for name, body in samples.items():
        assert _upload(me, drawn, p, name, body).status_code == 302, name
    assert _count(app) == len(samples)
    # Only photos and video the browser plays are shown in it; documents always download.
    with app.app_context():
        ids = db.session.execute(select(EvidenceFile.id)).scalars().all()
    for evidence_id in ids:
        r = me.get(record_url(drawn.task_id, p, f"evidence/{evidence_id}?view=1"))
        assert r.status_code == 200
        inline = r.headers["Content-Disposition"].startswith("inline")
        assert inline == (r.mimetype == "video/mp4"), r.mimetype


def test_only_the_team_uploads(app, login_as, drawn):
    other = drawn.foreign_position()
    r = _upload(login_as("inspector_jc"), drawn, other, "照片.png", SECRET_BYTES)
    assert r.status_code == 403
    assert _count(app) == 0


def test_a_large_photo_is_never_spooled_to_a_temporary_file(app, login_as, drawn, monkeypatch):
    # Werkzeug spools file parts over 500 KB to the temp directory, in clear,
    # before the view could encrypt them.
    import werkzeug.formparser

    spooled = []
    real = werkzeug.formparser.SpooledTemporaryFile
    monkeypatch.setattr(werkzeug.formparser, "SpooledTemporaryFile",
                        lambda *a, **kw: spooled.append(1) or real(*a, **kw))
    p = drawn.own_position()
    me = login_as("inspector_jc")
    big = SECRET_BYTES + b"\x00" * (2 * 1024 * 1024)
    assert _upload(me, drawn, p, "现场大图.png", big).status_code == 302
    assert _count(app) == 1
    assert spooled == []


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"<script>alert(1)</script>" * 20


def test_a_typed_name_cannot_choose_the_stored_type_or_smuggle_characters(app, login_as, drawn):
    # Issue #11: "z.html\x00.jpg" with JPEG bytes became an .html file in the archive,
    # whose script ran when opened from disk.
    p = drawn.own_position()
    me = login_as("inspector_jc")
    submit(me, drawn, p, findings="发现")
    for name in ("z.html\x00.jpg", "a'b\t<c>;.jpeg"):
        r = _upload(me, drawn, p, name, JPEG)
        assert r.status_code == 302, re.findall("flash[^>]*>([^<]*)", r.text)
    with app.app_context():
        from ssj.inspections import evidence
        from ssj.models import Task

        task = db.session.get(Task, drawn.task_id)
        names = sorted(f.meta["filename"] for f in evidence.listing(task, p, None))
        metas = [evidence.meta_of(row) for row in evidence.files_of(task, p)]
        db.session.rollback()
    assert names == ["a_b _c__.jpg", "z.html.jpg"]
    assert {m["ext"] for m in metas} == {"jpg"} and {m["mime"] for m in metas} == {"image/jpeg"}
    page = me.get(record_url(drawn.task_id, p)).text
    assert "z.html.jpg" in page and "\x00" not in page
    with app.app_context():
        ids = [row.id for row in db.session.execute(select(EvidenceFile)).scalars()]
    r = me.get(record_url(drawn.task_id, p, f"evidence/{ids[0]}"))
    assert r.status_code == 200 and r.headers["Content-Type"] == "image/jpeg"
    assert r.headers["Content-Disposition"].endswith('.jpg"') and "html" not in r.headers["Content-Disposition"]
