"""The database's stratum assignment agrees with the documented pure rule for every
combination of facts and of strata a task sets up (Art 7: disjoint strata)."""
from __future__ import annotations

import itertools
from datetime import date

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
