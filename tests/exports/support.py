"""Asking for an export through its real routes and downloading the file the job built."""
from __future__ import annotations

from tests.conftest import post


def start(client, url: str) -> str:
    """POST the form that asks for an export; return the job's token from the 303 to its page."""
    r = post(client, url, {})
    assert r.status_code == 303, (r.status_code, r.text[:500])
    location = r.headers["Location"]
    assert "/my/exports/" in location
    return location.rstrip("/").rsplit("/", 1)[1]


def download(client, token: str):
    return client.get(f"/my/exports/{token}/file")


def export_directory(client, kind: str):
    """The whole round trip a person makes: ask, (the job runs), download."""
    return download(client, start(client, f"/exports/{kind}"))


def export_task(client, task_id: int, what: str):
    """`what` is results.xlsx, results.csv or archive.zip."""
    return download(client, start(client, f"/tasks/{task_id}/publication/{what}"))
