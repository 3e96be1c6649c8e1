"""The release rule of the verification bundle (SPEC §3): a bundle whose Art 16 skips name a
task that is not published yet is withheld — it would reveal that task's secret list — and
appears by itself once that task is published; then it verifies, cross-checked with the other
task's bundle, with the public verifier."""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select

from ssj.extensions import db
from ssj.models import PublishedTask
from tests.ceremony.conftest import build_world, drawn_codes, full_draw

from .conftest import publish, set_publish_date

ROOT = Path(__file__).resolve().parents[2]


def _verify(tmp_path: Path, *bundles: bytes) -> subprocess.CompletedProcess:
    paths = []
    for n, body in enumerate(bundles):
        path = tmp_path / f"b{n}.json"
        path.write_bytes(body)
        paths.append(str(path))
    return subprocess.run(
        [sys.executable, str(ROOT / "ssj" / "verify.py"), *paths], capture_output=True, text=True, timeout=120
    )


def test_a_bundle_with_skips_is_withheld_until_the_excluding_task_is_published(app, login_as, client, tmp_path):
    first = build_world(app, tag="先")
    staff = login_as("staff")
    full_draw(staff, app, first.task_id)
    taken = drawn_codes(app, first.task_id)
    # Same scope (the department's whole directory), everything drawn: the walk must pass first's targets.
    second = build_world(app, tag="后", n_targets=0, jc_inspectors=0, ratio="100", cap=None)
    full_draw(staff, app, second.task_id, digits=lambda teams: True)
    assert not set(taken) & set(drawn_codes(app, second.task_id))
    yesterday = date.today() - timedelta(days=1)
    for task_id in (first.task_id, second.task_id):
        set_publish_date(app, task_id, yesterday)

    publish(login_as, second.task_id)
    page = client.get(f"/public/results/{second.task_id}")
    assert page.status_code == 200 and "核验数据将在该任务结果公开后自动在此发布" in page.text
    assert f"/public/results/{second.task_id}/bundle.json" not in page.text
    assert client.get(f"/public/results/{second.task_id}/bundle.json").status_code == 404
    with app.app_context():
        notice = db.session.get(PublishedTask, second.task_id)
        # At rest nothing names first's list: the bundle is sealed under second's key.
        assert notice.bundle_json == "" and notice.bundle_sealed
        assert not any(code.encode() in notice.bundle_sealed for code in taken)

    publish(login_as, first.task_id)  # nobody touches second's notice
    page = client.get(f"/public/results/{second.task_id}")
    assert "核验数据将在该任务结果公开后自动在此发布" not in page.text
    held = client.get(f"/public/results/{second.task_id}/bundle.json")
    assert held.status_code == 200
    bundle = json.loads(held.data)
    skipped = [x for s in bundle["strata"] for x in s["skipped"]]
    assert {x["id"] for x in skipped} == set(taken) and {x["by_task"] for x in skipped} == {first.task_id}
    with app.app_context():
        notice = db.session.get(PublishedTask, second.task_id)
        assert notice.bundle_sha256 == hashlib.sha256(held.data).hexdigest()
    other = client.get(f"/public/results/{first.task_id}/bundle.json")
    assert other.status_code == 200

    done = _verify(tmp_path, held.data, other.data)
    assert (done.returncode, done.stdout.strip(), done.stderr) == (0, "verified", ""), done.stdout + done.stderr
    # Without the other task's bundle the skips verify as a walk but are not cross-checked, and it says so.
    done = _verify(tmp_path, held.data)
    assert done.returncode == 0 and f"task {first.task_id}" in done.stderr


def test_a_bundle_without_skips_is_published_at_once(app, login_as, client):
    world = build_world(app, tag="独")
    full_draw(login_as("staff"), app, world.task_id)
    set_publish_date(app, world.task_id, date.today() - timedelta(days=1))
    publish(login_as, world.task_id)
    with app.app_context():
        notice = db.session.execute(select(PublishedTask)).scalar_one()
        assert notice.bundle_sealed is None and json.loads(notice.bundle_json)["format"] == "ssj-draw-v2"
    assert client.get(f"/public/results/{world.task_id}/bundle.json").status_code == 200
