"""Uploads beyond their bounds get the app's Chinese refusal, never a 500 or Werkzeug's English (issue #11)."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from ssj import jsonbounds
from ssj.extensions import db
from ssj.models import ImportJob
from tests.conftest import post


def check(client, data: bytes):
    return post(client, "/discipline/verify/against", {"checkpoints": (io.BytesIO(data), "kept.json")},
                content_type="multipart/form-data")


@pytest.mark.parametrize("body, words", [
    (b"[" * 200_000, "嵌套层数超过 16 层"),
    (b'{"a":' * 5_000 + b"1" + b"}" * 5_000, "嵌套层数超过 16 层"),
    (b"\xff\xfe" + b"x" * 10, "不是文本格式"),
])
def test_a_hostile_checkpoint_file_is_a_422_with_a_chinese_reason(app, login_as, body, words):
    r = check(login_as("discipline"), body)
    assert r.status_code == 422
    assert words in r.text and "RecursionError" not in r.text


def test_a_checkpoint_file_over_the_size_limit_is_refused_unread(app, login_as):
    app.config["JSON_UPLOAD_MAX_BYTES"] = 1024
    r = check(login_as("discipline"), b'{"format": "' + b"x" * 4096 + b'"}')
    assert r.status_code == 422 and "超过了" in r.text


def test_brackets_inside_strings_do_not_count_as_depth():
    assert jsonbounds.depth('{"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[", "b": [1, {"c": "\\"]]]"}]}') == 3
    assert jsonbounds.load(b'{"a": "[[[[[[[[[[[[[[[[[[[[[[[[["}', max_bytes=100, max_depth=2) == {"a": "[" * 25}


def test_an_upload_over_the_request_limit_gets_the_apps_chinese_413(app, login_as):
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    staff = login_as("staff")
    r = post(staff, "/imports/targets", {"file": (io.BytesIO(b"PK" + b"\0" * 200_000), "big.xlsx")},
             content_type="multipart/form-data")
    assert r.status_code == 413
    assert "文件过大" in r.text and "0.0625 MB" in r.text
    assert "Request Entity Too Large" not in r.text and "capacity limit" not in r.text
    assert '<html lang="zh-CN">' in r.text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ImportJob)) == 0


@pytest.mark.parametrize("status", [400, 404, 405, 413, 415, 422, 429, 500])
def test_every_error_page_is_the_apps_chinese_page(app, status):
    from flask import abort
    from werkzeug.exceptions import default_exceptions

    from ssj.errors import MESSAGES
    from ssj.security import access

    @app.route(f"/raise-{status}", endpoint=f"raise_{status}")
    @access.public
    def _raise():
        abort(status)

    r = app.test_client().get(f"/raise-{status}")
    assert r.status_code == status
    assert MESSAGES[status][0] in r.text and '<html lang="zh-CN">' in r.text
    assert default_exceptions[status].description not in r.text
