"""If the access-log entry cannot be written, nothing is shown and nothing is changed (SPEC §4, §5)."""
from __future__ import annotations

import pytest

from ssj.audit import chain

from ..conftest import login, post
from ..factories import PASSWORD
from .conftest import Attacker

NEW_PASSWORD = "Another-password-2"


class LogOutage:
    """Building an entry raises between start() and stop(), as a full disk or a lost key would."""

    def __init__(self, monkeypatch):
        self.monkeypatch = monkeypatch

    def start(self) -> None:
        def refuse(*args, **kwargs):
            raise OSError("no space left on device")

        self.monkeypatch.setattr(chain, "canonical_json", refuse)

    def stop(self) -> None:
        self.monkeypatch.undo()


@pytest.fixture
def outage(monkeypatch) -> LogOutage:
    return LogOutage(monkeypatch)


def test_a_read_is_not_served_when_its_entry_cannot_be_written(app, login_as, outage):
    c = login_as("staff")
    assert "您的职责" in c.get("/todo").text
    before = Attacker.of(app).count()
    outage.start()
    r = c.get("/todo")
    assert r.status_code == 503
    assert "访问日志" in r.text and "没有显示所请求的内容" in r.text
    assert "您的职责" not in r.text
    assert Attacker.of(app).count() == before


def test_a_database_that_refuses_the_entry_also_closes_the_page(app, login_as):
    # A real failure, not a patched one: the database itself rejects the insert.
    c = login_as("staff")
    attacker = Attacker.of(app)
    if attacker.dialect == "postgresql":
        attacker.sql("CREATE FUNCTION refuse_log() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk full'; END $$")
        attacker.sql("CREATE TRIGGER refuse_log BEFORE INSERT ON access_log FOR EACH ROW EXECUTE FUNCTION refuse_log()")
    else:
        attacker.sql("CREATE TRIGGER refuse_log BEFORE INSERT ON access_log BEGIN SELECT RAISE(ABORT, 'disk full'); END")
    r = c.get("/todo")
    assert r.status_code == 503 and "您的职责" not in r.text


def test_a_password_change_is_not_kept_when_its_entry_cannot_be_written(app, login_as, outage):
    c = login_as("staff")
    elsewhere = login_as("staff")  # a second session, which a real change would end
    outage.start()
    r = post(c, "/account/password",
             {"old_password": PASSWORD, "new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD})
    assert r.status_code == 503
    assert "没有保存您的更改" in r.text
    assert "密码已修改" not in r.text

    # Back to a working log: the old password still works, the new one does not, and
    # the other session was not ended.
    outage.stop()
    assert login(app.test_client(), "staff_jc", PASSWORD).status_code == 302
    assert login(app.test_client(), "staff_jc", NEW_PASSWORD).status_code == 200
    assert elsewhere.get("/todo").status_code == 200
