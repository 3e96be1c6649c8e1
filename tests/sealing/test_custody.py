"""k-of-n custody and sealed mode (SPEC §4; issue 12): no file holds the KEK; a sealed instance
serves nothing but the unseal page until K custodians have entered their shares."""
from __future__ import annotations

import json
import re
import secrets
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from ssj import create_app, suites
from ssj.custody import shares as sh
from ssj.extensions import db
from ssj.models import AccessLogEntry
from ssj.sealing import envelope
from tests.ceremony.conftest import build_world, drawn_codes, full_draw
from tests.conftest import CRYPTO_SUITE, TEST_CONFIG, login, post

# --- the pure share module ----------------------------------------------------------------------


def test_any_k_shares_recombine_and_k_minus_1_do_not():
    secret = secrets.token_bytes(32)
    parts = sh.split(secret, 3, 5, "ab12cd34")
    for chosen in ([0, 1, 2], [4, 2, 0], [1, 3, 4]):
        assert sh.combine([parts[i] for i in chosen]) == secret
    assert sh.combine(parts[:2]) != secret


def test_a_typing_mistake_names_its_line():
    share = sh.split(secrets.token_bytes(32), 2, 3, "ab12cd34")[1]
    lines = [f"{n}: {digits} {code}" for n, digits, code in sh.sheet_lines(share)]
    assert sh.parse("ab12cd34", 2, "\n".join(lines)) == share
    typo = list(lines)
    digit = typo[2][3]
    typo[2] = typo[2][:3] + ("0" if digit != "0" else "1") + typo[2][4:]
    with pytest.raises(sh.ShareError, match="第 3 行的校验码不符"):
        sh.parse("ab12cd34", 2, "\n".join(typo))
    # Typed under the wrong share number: the first line already fails.
    with pytest.raises(sh.ShareError, match="第 1 行"):
        sh.parse("ab12cd34", 3, "\n".join(lines))
    with pytest.raises(sh.ShareError, match="应有 8 行"):
        sh.parse("ab12cd34", 2, "\n".join(lines[:7]))


# --- sealed mode through the app ---------------------------------------------------------------

ROW = re.compile(r"<tr><td>(\d)</td><td>([0-9a-f ]+)</td><td>([0-9A-Z]{4})</td></tr>")


def sheet_text(path: Path) -> str:
    """What a custodian types: the rows of the printed sheet."""
    return "\n".join(f"{n}: {digits} {code}" for n, digits, code in ROW.findall(path.read_text(encoding="utf-8")))


@pytest.fixture
def sealed(app, tmp_path, instance_path):
    """A drawn task, then `keys split --shares 3 --threshold 2`; returns (sheets dir, world)."""
    world = build_world(app)
    staff = app.test_client()
    assert login(staff, "staff_jc").status_code == 302
    full_draw(staff, app, world.task_id)
    world.extra["drawn"] = drawn_codes(app, world.task_id)
    out = tmp_path / "sheets"
    result = app.test_cli_runner().invoke(args=["keys", "split", "--shares", "3", "--threshold", "2", "--out", str(out),
                                                "--custodian", "张保管", "--custodian", "李保管", "--custodian", "王保管"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        db.engine.dispose()
    return out, world


def restart(instance_path):
    return create_app(dict(TEST_CONFIG), instance_path=str(instance_path))


def enter(client, index: int, text: str, name: str = "张保管", **kw):
    client.get("/unseal")  # the form, and with it the session's CSRF token (every other page is sealed)
    return post(client, "/unseal", {"custodian": name, "index": str(index), "share": text}, **kw)


def get_urls(app) -> list[str]:
    """Every GET page without URL arguments, and some with."""
    urls = [r.rule for r in app.url_map.iter_rules() if "GET" in r.methods and not r.arguments]
    return urls + ["/tasks/1/list", "/tasks/1", "/public/results"]


def test_split_leaves_no_key_encryption_key_in_any_file(sealed, instance_path):
    out, _ = sealed
    keys = Path(instance_path) / "keys"
    assert sorted(p.name for p in keys.iterdir()) == sorted(
        ["secret_key", "audit_mac.key", "audit_signing.pem", "custody.json", "instance.json"])
    assert sorted(p.name for p in out.iterdir()) == ["share-1.html", "share-2.html", "share-3.html"]
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in [*keys.iterdir(), *out.iterdir()])
    page = (out / "share-2.html").read_text(encoding="utf-8")
    assert "第 2 份（共 3 份，解封需 2 份）" in page and "李保管" in page and "size: A4" in page
    assert len(ROW.findall(page)) == 8


def test_sealed_instance_serves_only_the_unseal_page_until_k_shares(sealed, instance_path):
    out, world = sealed
    app = restart(instance_path)
    c = app.test_client()
    for url in get_urls(app):
        r = c.get(url)
        if url == "/unseal" or url.startswith("/static"):
            continue
        assert r.status_code == 503 and "系统已封存" in r.text, url
    assert c.get("/unseal").status_code == 200
    assert login(c, "staff_jc").status_code == 503  # not even a login

    # One share (K-1): still sealed.
    r = enter(c, 1, sheet_text(out / "share-1.html"))
    assert r.status_code == 200 and "已输入 1 份" in r.text
    assert c.get(f"/tasks/{world.task_id}/list").status_code == 503
    # The same share again does not count twice.
    r = enter(c, 1, sheet_text(out / "share-1.html"), name="李保管")
    assert r.status_code == 400 and "已由 张保管 输入过" in r.text
    # A typing mistake is named by line; a well-formed share that is not ours is refused too.
    text = sheet_text(out / "share-3.html").split("\n")
    text[4] = text[4].replace(text[4].split()[1], "ffff" if text[4].split()[1] != "ffff" else "eeee", 1)
    r = enter(c, 3, "\n".join(text), name="王保管")
    assert r.status_code == 400 and "第 5 行的校验码不符" in r.text
    custody = json.loads((Path(instance_path) / "keys" / "custody.json").read_text())
    forged = sh.Share(custody["set_id"], 3, secrets.token_bytes(32))
    r = enter(c, 3, "\n".join(f"{n}: {d} {k}" for n, d, k in sh.sheet_lines(forged)), name="王保管")
    assert r.status_code == 400 and "这不是本系统第 3 份的份额" in r.text
    assert c.get("/").status_code == 503

    # Not from the server itself and not over HTTPS: refused, and not counted.
    remote = app.test_client()
    remote.environ_base["REMOTE_ADDR"] = "10.1.2.3"
    assert "请勿在此输入份额" in remote.get("/unseal").text
    r = enter(remote, 2, sheet_text(out / "share-2.html"), name="李保管")
    assert r.status_code == 403 and "服务器本机" in r.text

    # The second share: unsealed, in memory only.
    r = enter(c, 2, sheet_text(out / "share-2.html"), name="李保管")
    assert r.status_code == 200 and "系统已解封" in r.text
    staff = app.test_client()
    assert login(staff, "staff_jc").status_code == 302
    page = staff.get(f"/tasks/{world.task_id}/list")
    assert page.status_code == 200
    for code in drawn_codes(app, world.task_id):
        assert world.targets[code] in page.text
    with app.app_context():
        entries = db.session.execute(select(AccessLogEntry.action, AccessLogEntry.outcome, AccessLogEntry.body)
                                     .where(AccessLogEntry.action.like("custody_%"))
                                     .order_by(AccessLogEntry.seq)).all()
    assert [(a, o) for a, o, _ in entries] == [
        ("custody_share_entered", "ok"), ("custody_share_rejected", "denied"), ("custody_share_rejected", "denied"),
        ("custody_share_rejected", "denied"), ("custody_share_rejected", "denied"),
        ("custody_share_entered", "ok"), ("custody_unsealed", "ok")]
    names = [json.loads(b)["objects"]["custodian"] for _, _, b in entries[:-1]]
    assert names == ["张保管", "李保管", "王保管", "王保管", "李保管", "李保管"]
    assert app.test_cli_runner().invoke(args=["audit", "verify"]).output.startswith("OK")
    with app.app_context():
        db.engine.dispose()


def _attack(copy: Path, codes: list[str], extra_keys: list[bytes] = ()) -> set[str]:
    """What someone holding a copy of the whole instance directory can learn of the drawn targets:
    every key-sized file (and what ssj derives from one) tried as the KEK on every task data key and
    as the log's reference key against every credit code in the directory."""
    candidates = [p.read_bytes() for p in copy.rglob("*") if p.is_file() and p.stat().st_size in (16, 32)]
    candidates += list(extra_keys)
    derived = [suites.mac(CRYPTO_SUITE, k, b"ssj/audit/reference/v1") for k in candidates]
    import sqlite3

    con = sqlite3.connect(copy / "ssj.sqlite3")
    try:
        wrapped = con.execute("SELECT task_id, wrapped_key FROM task_key").fetchall()
        bodies = [r[0] for r in con.execute("SELECT body FROM access_log")]
        results = con.execute("SELECT task_id, id, result_sealed FROM draw_attempt WHERE result_sealed IS NOT NULL").fetchall()
    finally:
        con.close()
    found: set[str] = set()
    for kek in candidates:
        for task_id, blob in wrapped:
            try:
                dk = envelope.unwrap_data_key(kek, task_id, blob)
            except envelope.SealError:
                continue
            for t_id, attempt_id, sealed in results:
                if t_id == task_id:
                    result = json.loads(envelope.open_sealed(dk, task_id, "result", attempt_id, sealed))
                    found |= {team["target"] for team in result["teams"]}
    refs = set(re.findall(r"[0-9a-f]{64}", "\n".join(bodies)))
    forms = ["", "|", *(f"{task_id}|" for task_id, _ in wrapped)]  # per-task references and the older form
    for key in candidates + derived:
        found |= {c for c in codes for f in forms if suites.mac_hex(CRYPTO_SUITE, key, (f + c).encode()) in refs}
    return found


@pytest.mark.sqlite_only("reads the database from the copied instance directory; on PostgreSQL the database is "
                         "not in it (tests/ceremony/test_secrecy.py's postgres_only variant attacks a pg_dump)")
def test_a_copy_of_the_whole_sealed_instance_directory_names_no_drawn_target(sealed, instance_path, tmp_path):
    """The database-copy secrecy test, extended to everything under instance/ (keys included)."""
    out, world = sealed
    app = restart(instance_path)
    c = app.test_client()
    enter(c, 1, sheet_text(out / "share-1.html"))
    assert "系统已解封" in enter(c, 3, sheet_text(out / "share-3.html"), name="王保管").text
    # Work goes on while unsealed: reads that log HMAC references of the drawn codes.
    staff = app.test_client()
    assert login(staff, "staff_jc").status_code == 302
    assert staff.get(f"/tasks/{world.task_id}/list").status_code == 200
    drawn = set(drawn_codes(app, world.task_id))
    opened = app.extensions["ssj.unsealed"]
    with app.app_context():
        db.engine.dispose()
    copy = tmp_path / "stolen"
    shutil.copytree(instance_path, copy)
    assert _attack(copy, list(world.targets)) == set()
    # Outside the database (whose directory tables name every target, drawn or not; see
    # tests/ceremony/test_secrecy.py) no file names a drawn one: keys, evidence, exports.
    for code in drawn:
        for value in (code, world.targets[code]):
            for p in copy.rglob("*"):
                assert not (p.is_file() and p.name != "ssj.sqlite3" and p.name != "ssj.sqlite3-wal"
                            and value.encode() in p.read_bytes()), p
    # The attack is real: with the keys the custodians opened (memory only) it finds every drawn target.
    assert _attack(copy, list(world.targets), [opened["kek"], opened["reference"]]) >= drawn


def test_serve_unseals_in_one_process_then_every_gunicorn_worker_has_the_keys(sealed, instance_path):
    """`flask serve` on a sealed instance: the unseal page alone, then gunicorn (2 workers) with the keys
    handed over through a pipe; no file is written on the way."""
    import http.cookiejar
    import os
    import socket
    import subprocess
    import sys
    import time
    import urllib.error
    import urllib.parse
    import urllib.request

    out, world = sealed
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    keys_before = sorted(p.name for p in (Path(instance_path) / "keys").iterdir())
    env = {**os.environ, "SSJ_INSTANCE_PATH": str(instance_path)}
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "serve", "--bind", f"127.0.0.1:{port}",
                             "--workers", "2", "--threads", "1"], cwd=root, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

        def fetch(path, data=None):
            body = urllib.parse.urlencode(data).encode() if data is not None else None
            try:
                with opener.open(base + path, body, timeout=10) as r:
                    return r.status, r.read().decode()
            except urllib.error.HTTPError as e:
                return e.code, e.read().decode()

        status, text = None, ""
        deadline = time.monotonic() + 90  # a loaded CI machine starts Flask slowly
        while status is None and time.monotonic() < deadline and proc.poll() is None:
            try:
                status, text = fetch("/")
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)
        assert status == 503 and "系统已封存" in text, proc.stderr.read().decode()[-2000:] if proc.poll() is not None else status

        def share(index, name):
            _, form = fetch("/unseal")
            token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
            return fetch("/unseal", {"csrf_token": token, "custodian": name, "index": index,
                                     "share": sheet_text(out / f"share-{index}.html")})

        assert share(1, "张保管")[0] == 200
        status, text = share(2, "李保管")
        assert status == 200 and "系统已解封" in text
        # The process execs gunicorn; wait for the login page.
        deadline = time.monotonic() + 90
        status = None
        while status != 200 and time.monotonic() < deadline:
            try:
                status, text = fetch("/login")
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)
        assert status == 200, text[:300]
        token = re.search(r'name="csrf_token" value="([^"]+)"', text).group(1)
        from tests.factories import PASSWORD

        fetch("/login", {"csrf_token": token, "username": "staff_jc", "password": PASSWORD})
        names = [world.targets[code] for code in world.extra["drawn"]]
        pages = [fetch(f"/tasks/{world.task_id}/list") for _ in range(8)]  # spread over both workers
        assert all(status == 200 and all(n in text for n in names) for status, text in pages), [p[0] for p in pages]
    finally:
        proc.terminate()
        try:  # gunicorn lets busy workers finish for up to 30 s; a loaded machine may need them all
            proc.wait(timeout=45)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    assert sorted(p.name for p in (Path(instance_path) / "keys").iterdir()) == keys_before


def test_backup_verify_on_a_sealed_instance_asks_for_shares_on_the_console(sealed, instance_path, tmp_path):
    out, world = sealed
    app = restart(instance_path)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["backup", str(tmp_path / "b")]).exit_code == 0

    def typed(index, name):
        rows = sheet_text(out / f"share-{index}.html").split("\n")
        return "\n".join([name, str(index), *rows]) + "\n"

    # A mistyped share first (refused, asked again), then two good ones.
    bad = typed(1, "张保管").replace(sheet_text(out / "share-1.html").split("\n")[0].split()[-1], "ZZZZ")
    result = runner.invoke(args=["backup", "verify", str(tmp_path / "b")],
                           input=bad + typed(1, "张保管") + typed(3, "王保管"))
    assert "第 1 行的校验码不符" in result.output
    assert result.exit_code == 0, result.output
    assert "1/1 个任务的封存数据可以打开" in result.output
    with app.app_context():
        db.engine.dispose()


@pytest.mark.sqlite_only("restores into a new SQLite file; test_backup.py restores on PostgreSQL")
def test_a_sealed_instance_restores_with_its_sealed_keys_and_opens_after_unsealing(sealed, instance_path, tmp_path):
    out, world = sealed
    app = restart(instance_path)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["backup", str(tmp_path / "b")]).exit_code == 0
    assert runner.invoke(args=["keys", "export", str(tmp_path / "k")]).exit_code == 0
    assert not (tmp_path / "k" / "kek.key").exists() and not (tmp_path / "k" / "audit.key").exists()
    with app.app_context():
        db.engine.dispose()
    fresh = tmp_path / "fresh"
    config = {**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": "sqlite:///" + str(fresh / "ssj.sqlite3")}
    result = run_cli(create_app(dict(config), instance_path=str(fresh)), "restore", str(tmp_path / "b"),
                     "--keys", str(tmp_path / "k"))
    assert result.exit_code == 0, result.output
    restored = create_app(dict(config), instance_path=str(fresh))
    c = restored.test_client()
    assert c.get(f"/tasks/{world.task_id}/list").status_code == 503
    enter(c, 2, sheet_text(out / "share-2.html"), name="李保管")
    assert "系统已解封" in enter(c, 3, sheet_text(out / "share-3.html"), name="王保管").text
    staff = restored.test_client()
    assert login(staff, "staff_jc").status_code == 302
    page = staff.get(f"/tasks/{world.task_id}/list")
    assert page.status_code == 200 and all(world.targets[code] in page.text for code in world.extra["drawn"])
    with restored.app_context():
        db.engine.dispose()


def run_cli(app, *args):
    return app.test_cli_runner().invoke(args=list(args))
