"""CPU time per request of the main pages, beside the minimal audited request (bench/pages.py).

Run by `bench/pages.py` in the instance it built (SSJ_INSTANCE_PATH, SSJ_DATABASE_URL),
with the pages as JSON on the command line. One process, Flask's test client, signed in
as the same user through the login form; the pages are asked in turn, round after round,
and each request's CPU time (`time.process_time`: this process only, so another program's
load on a shared machine does not count) is summed per page. It leaves out what `wrk`
measures beyond one request — the workers' concurrency, the database server's own CPU on
PostgreSQL — and keeps what the pages cost Python, which is where they differ; on a
machine shared with other work its ratios are steadier than the requests per second.
Printed: JSON {page: [ms per request, statements per request]}.
"""
from __future__ import annotations

import json
import re
import sys
import time

from sqlalchemy import event

ROUNDS = 40


def main() -> None:
    urls: dict[str, str] = json.loads(sys.argv[1])
    username, password = sys.argv[2], sys.argv[3]
    from bench.pages_app import app
    from ssj.extensions import db

    client = app.test_client()
    form = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    client.post("/login", data={"username": username, "password": password, "csrf_token": token})
    statements: list[str] = []
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    counts = {}
    for label, path in urls.items():
        for _ in range(3):  # warm: templates compiled, first-request work done
            r = client.get(path)
            assert r.status_code == 200, (path, r.status_code)
        statements.clear()
        client.get(path)
        counts[label] = len(statements)
    spent = dict.fromkeys(urls, 0.0)
    for _ in range(ROUNDS):
        for label, path in urls.items():
            t = time.process_time()
            client.get(path)
            spent[label] += time.process_time() - t
    print(json.dumps({label: [spent[label] / ROUNDS * 1000, counts[label]] for label in urls}))


if __name__ == "__main__":
    main()
