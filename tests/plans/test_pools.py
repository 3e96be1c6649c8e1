"""The database's stratum assignment agrees with the documented pure rule for every
combination of facts and of strata a task sets up (Art 7: disjoint strata)."""
from __future__ import annotations

import itertools
from datetime import date, timedelta

from sqlalchemy import select

from ssj.extensions import db
from ssj.models import Stratum, Target, Task, User
from ssj.plans import rules, service

from .conftest import add_targets, department, section


def test_sql_strata_match_the_pure_rule(app):
    with app.test_request_context():
        facts = {}
        for special, small in itertools.product((False, True), repeat=2):
            for code in add_targets("RSJ", 2, complaint_count=3 if special else 0, is_small_micro=small):
                facts[code] = (special, small)
        # The special rule's three clauses each count on their own.
        for code in add_targets("RSJ", 1, serious_violation=True) + add_targets("RSJ", 1, credit_grade="C"):
            facts[code] = (True, False)
        sample = db.session.get(Target, db.session.query(Target.id).first()[0])
        assert sample.is_special == facts[sample.credit_code][0]
        organizer = db.session.execute(select(User.id).limit(1)).scalar()
        for optional in ([], ["special"], ["small_micro"], ["special", "small_micro"]):
            enabled = [k for k in rules.STRATUM_ORDER if k in optional or k == "general"]
            task = Task(section_id=section("JCDD").id, year=2026, name="t", organizer_id=organizer)
            task.strata = [
                Stratum(position=i, name=f"分层{kind}", kind=kind, ratio_percent="1") for i, kind in enumerate(enabled)
            ]
            db.session.add(task)
            db.session.flush()
            expected = {kind: [] for kind in enabled}
            for code, (special, small) in facts.items():
                expected[rules.stratum_kind(special, small, enabled)].append(code)
            pools, _ = service.eligible_pools(task, date.today())
            assert {s.kind: codes for s, codes in pools} == {k: sorted(v) for k, v in expected.items()}
            sizes = service.pool_sizes(service.Scope(department("RSJ").id), enabled)
            assert sizes == {k: len(v) for k, v in expected.items()}
        db.session.rollback()


def test_an_inspector_whose_certificate_lapses_before_the_planned_end_is_not_drawn(app):
    """SPEC §3: eligible means a certificate valid through the task's planned end, not only on the draw day."""
    from .conftest import add_inspector

    with app.test_request_context():
        add_inspector("RSJ", "JCDD", "E-LONG", expires_in_days=90)
        add_inspector("RSJ", "JCDD", "E-MID", expires_in_days=30)
        organizer = db.session.execute(select(User.id).limit(1)).scalar()
        today = date.today()
        task = Task(section_id=section("JCDD").id, year=today.year, name="t", organizer_id=organizer,
                    planned_start=today, planned_end=today + timedelta(days=45))
        task.strata = [Stratum(position=0, name="一般对象", kind="general", ratio_percent="1")]
        db.session.add(task)
        db.session.flush()
        _, inspectors = service.eligible_pools(task, today)
        # Valid on the draw day, lapsing on day 30 of a 45-day inspection: not drawn.
        assert "E-LONG" in inspectors and "E-MID" not in inspectors
        assert service.preview(task, today).inspectors == len(inspectors)
        task.planned_end = today + timedelta(days=20)
        _, inspectors = service.eligible_pools(task, today)
        assert "E-MID" in inspectors
        db.session.rollback()
