"""The public results notice (SPEC §6; Art 13): after approval anyone sees the
units and results and can re-run the draw; before it nothing is reachable."""
from __future__ import annotations

import hashlib
import subprocess
import sys

from tests.ceremony.conftest import build_world

from .conftest import ask, publish


def _public_urls(task_id: int) -> list[str]:
    return [f"/public/results/{task_id}", f"/public/results/{task_id}/bundle.json"]


def test_the_notice_shows_every_unit_with_its_result(app, drawn, login_as, client):
    publish(login_as, drawn.task_id)
    listing = client.get("/public/results")
    assert listing.status_code == 200 and "甲号工资支付专项抽查" in listing.text
    page = client.get(f"/public/results/{drawn.task_id}")
    assert page.status_code == 200
    for code in drawn.extra["codes"]:
        assert code in page.text and drawn.targets[code] in page.text
    assert "未录入" not in page.text  # publication needs every record (SPEC §4)
    assert page.text.count("未发现问题") >= len(drawn.extra["codes"])
    not_drawn = set(drawn.targets) - set(drawn.extra["codes"])
    assert not any(code in page.text for code in not_drawn)
    assert "下载核验包" in page.text and "/public/verify.py" in page.text


def test_the_downloaded_bundle_verifies_with_the_public_verifier(app, drawn, login_as, client, tmp_path):
    publish(login_as, drawn.task_id)
    page = client.get(f"/public/results/{drawn.task_id}")
    bundle = client.get(f"/public/results/{drawn.task_id}/bundle.json")
    assert bundle.status_code == 200 and bundle.mimetype == "application/json"
    assert hashlib.sha256(bundle.data).hexdigest() in page.text
    verifier = client.get("/public/verify.py")
    assert verifier.status_code == 200 and verifier.mimetype == "text/x-python"
    (tmp_path / "bundle.json").write_bytes(bundle.data)
    (tmp_path / "verify.py").write_bytes(verifier.data)
    # The verifier as downloaded, run alone outside the project.
    done = subprocess.run([sys.executable, "verify.py", "bundle.json"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "verified" in done.stdout
    # And through the package entry point named in docs/verify.md.
    done = subprocess.run(
        [sys.executable, "-m", "ssj.verify", str(tmp_path / "bundle.json")], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_tampered_bundle_fails_the_verifier(app, drawn, login_as, client, tmp_path):
    publish(login_as, drawn.task_id)
    data = client.get(f"/public/results/{drawn.task_id}/bundle.json").data.decode()
    first, second = drawn.extra["codes"][0], sorted(set(drawn.targets) - set(drawn.extra["codes"]))[0]
    (tmp_path / "b.json").write_text(data.replace(first, second))
    done = subprocess.run([sys.executable, "-m", "ssj.verify", str(tmp_path / "b.json")], capture_output=True, text=True)
    assert done.returncode == 1


def test_an_unpublished_task_is_a_404_like_a_missing_one(app, drawn, login_as, client):
    missing = [client.get(url) for url in _public_urls(999999)]
    assert ask(login_as("staff"), drawn.task_id).status_code == 302  # requested, not yet approved
    for url, absent in zip(_public_urls(drawn.task_id), missing):
        r = client.get(url)
        assert r.status_code == 404 == absent.status_code
        assert r.data == absent.data
    listing = client.get("/public/results")
    assert "甲号工资支付专项抽查" not in listing.text
    assert not any(code in listing.text for code in drawn.extra["codes"])


def test_a_planned_task_is_not_on_the_public_pages(app, client):
    world = build_world(app, tag="乙")
    assert client.get(f"/public/results/{world.task_id}").status_code == 404
    assert "目前还没有公开的抽查结果" in client.get("/public/results").text


def test_the_verify_instructions_are_public(client):
    r = client.get("/public/verify")
    assert r.status_code == 200 and "nonce_sha256" in r.text and "verify.py" in r.text
