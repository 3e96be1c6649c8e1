"""The archive package and the results exports of a published task, built by jobs (Art 9, 13, 16)."""
from __future__ import annotations

import hashlib
import io
import json
import zipfile

from sqlalchemy import select

from ssj.exports import jobs
from ssj.extensions import db
from ssj.models import AccessLogEntry
from ssj.publication import archive
from tests.conftest import post
from tests.publication.conftest import drawn, publish, uninspected  # noqa: F401  (fixtures)

from .support import download, export_task, start


def logged(app, action: str) -> list[dict]:
    with app.app_context():
        return [json.loads(b) for b in db.session.execute(
            select(AccessLogEntry.body).where(AccessLogEntry.action == action).order_by(AccessLogEntry.seq)
        ).scalars()]


def test_the_archive_built_in_a_background_thread_verifies(app, drawn, login_as):  # noqa: F811
    publish(login_as, drawn.task_id)
    app.config["EXPORT_RUN_INLINE"] = False
    head = login_as("head_jc")
    r = post(head, f"/tasks/{drawn.task_id}/publication/archive.zip")
    assert r.status_code == 303
    token = r.headers["Location"].rsplit("/", 1)[1]
    r.close()  # starts the thread
    jobs.wait_for_jobs(timeout=120)
    package = download(head, token)
    assert package.status_code == 200 and package.mimetype == "application/zip"
    assert archive.check(package.data) == []
    z = zipfile.ZipFile(io.BytesIO(package.data))
    manifest = json.loads(z.read("manifest.json"))
    assert manifest["generated_by"] == "head_jc" and manifest["task"] == drawn.task_id
    assert all(code in z.read("notice.html").decode() for code in drawn.extra["codes"])
    # Built and downloaded under the name of the person who asked, with the same fingerprint.
    (built,) = logged(app, "job_export_built")
    (fetched,) = logged(app, "archive_downloaded")
    digest = hashlib.sha256(package.data).hexdigest()
    assert built["username"] == fetched["username"] == "head_jc"
    assert built["objects"]["sha256"] == fetched["objects"]["sha256"] == digest
    assert fetched["task_id"] == drawn.task_id and "bundle.json" in fetched["objects"]["files"]


def test_results_csv_waits_encrypted_and_names_no_unit_on_disk(app, drawn, login_as):  # noqa: F811
    publish(login_as, drawn.task_id)
    staff = login_as("staff")
    token = start(staff, f"/tasks/{drawn.task_id}/publication/results.csv")
    with app.app_context():
        (stored,) = list(jobs.export_dir().glob("*.enc"))
    body = stored.read_bytes()
    names = [drawn.targets[c] for c in drawn.extra["codes"]]
    assert not any(n.encode() in body for n in names) and not any(c.encode() in body for c in drawn.extra["codes"])
    text = download(staff, token).data.decode("utf-8-sig")
    assert all(n in text for n in names)


def test_the_archive_job_is_refused_to_a_section_without_need_to_know(app, drawn, login_as):  # noqa: F811
    publish(login_as, drawn.task_id)
    assert post(login_as("staff_sb"), f"/tasks/{drawn.task_id}/publication/archive.zip").status_code == 403
    token = start(login_as("head_jc"), f"/tasks/{drawn.task_id}/publication/archive.zip")
    assert login_as("staff_sb").get(f"/my/exports/{token}/file").status_code == 404
    assert export_task(login_as("supervisor"), drawn.task_id, "results.xlsx").status_code == 200
