"""Code run in separate OS processes by the concurrency test (spawned, so importable by name)."""
from __future__ import annotations


def append_entries(instance_path: str, config: dict, worker: int, count: int, start) -> None:
    """Create an own app on the shared instance and append `count` entries, one commit each."""
    from ssj import audit, create_app
    from ssj.extensions import db

    app = create_app(dict(config), instance_path=instance_path)
    with app.app_context():
        start.wait(60)  # all workers begin together, so their appends really interleave
        for i in range(count):
            audit.record("concurrency_test", objects={"worker": worker, "i": i}, username=f"worker{worker}")
            db.session.commit()
        db.session.remove()
        db.engine.dispose()
