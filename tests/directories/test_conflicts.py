"""Conflicts of interest (Art 5): recorded by staff, declared by the inspector, withdrawn with a reason."""
import json

from sqlalchemy import select

from ssj.extensions import db
from ssj.models import AccessLogEntry, Conflict
from tests.conftest import loaded_version, post, post_as_loaded

from . import builders


def _conflicts(app):
    with app.app_context():
        return db.session.execute(
            select(Conflict.inspector_id, Conflict.target_id, Conflict.kind, Conflict.declared_by_id)
        ).all()


def _log(app, action):
    with app.app_context():
        bodies = db.session.execute(select(AccessLogEntry.body).where(AccessLogEntry.action == action)).scalars()
        return [json.loads(b) for b in bodies]


def _own_inspector(app):
    with app.app_context():
        uid = builders.user("inspector_jc").id
    return builders.inspector(app, "JC0100", "检查员本人", user_id=uid)


def test_staff_records_a_conflict_by_credit_code(app, login_as):
    iid = builders.inspector(app, "JC0001", "张明")
    tid = builders.target(app, 1, name="商水县回避测试有限公司")
    c = login_as("staff_jc")
    r = post(c, "/conflicts/new", {"inspector_id": str(iid), "credit_code": builders.code(1).lower(),
                                    "kind": "relative", "reason": "配偶在该单位任财务"})
    assert r.status_code == 302
    page = c.get("/conflicts").text
    assert "张明" in page and "商水县回避测试有限公司" in page and "近亲属关系" in page
    with app.app_context():
        staff = builders.user("staff_jc").id
    assert _conflicts(app) == [(iid, tid, "relative", staff)]
    entry = _log(app, "conflict_recorded")[0]
    assert entry["objects"]["inspector"] == "JC0001" and "target_ref" in entry["objects"]


def test_bad_conflicts_are_refused_with_reasons_and_nothing_written(app, login_as):
    iid = builders.inspector(app, "JC0001", "张明")
    builders.target(app, 1)
    builders.conflict(app, iid, builders.target(app, 2))
    c = login_as("staff_jc")
    base = {"inspector_id": str(iid), "kind": "relative", "reason": "亲属"}
    r = post(c, "/conflicts/new", dict(base, credit_code=builders.code(1)[:-1] + "X"))
    assert r.status_code == 422 and "校验位错误" in r.text
    r = post(c, "/conflicts/new", dict(base, credit_code=builders.code(77)))
    assert r.status_code == 422 and "名录库中没有统一社会信用代码为" in r.text
    r = post(c, "/conflicts/new", dict(base, credit_code=builders.code(2)))
    assert r.status_code == 422 and "已经登记过了" in r.text
    r = post(c, "/conflicts/new", dict(base, credit_code=builders.code(1), kind="", reason=""))
    assert r.status_code == 422 and "请选择回避类型" in r.text and "请写明需要回避的具体原因" in r.text
    assert len(_conflicts(app)) == 1


def test_staff_cannot_use_another_departments_inspector_or_target(app, login_as):
    other = builders.inspector(app, "ZF0001", "市场监管人员", section_code="ZFJC")
    builders.target(app, 1)
    builders.target(app, 5, dept="SCJ")
    c = login_as("staff_jc")
    r = post(c, "/conflicts/new", {"inspector_id": str(other), "credit_code": builders.code(1),
                                    "kind": "other", "reason": "x"})
    assert r.status_code == 422 and "请选择本部门执法人员名录中的一名执法人员" in r.text
    mine = builders.inspector(app, "JC0001", "张明")
    r = post(c, "/conflicts/new", {"inspector_id": str(mine), "credit_code": builders.code(5),
                                    "kind": "other", "reason": "x"})
    assert r.status_code == 422 and "名录库中没有" in r.text
    assert _conflicts(app) == []


def test_inspector_declares_their_own_conflict(app, login_as):
    mine = _own_inspector(app)
    tid = builders.target(app, 1, name="本人回避单位")
    c = login_as("inspector_jc")
    form = c.get("/conflicts/new").text
    assert "申报人：检查员本人" in form and 'name="inspector_id"' not in form
    r = post(c, "/conflicts/new", {"credit_code": builders.code(1), "kind": "former_employer",
                                    "reason": "2019 年前在该单位任人事专员"})
    assert r.status_code == 302
    with app.app_context():
        uid = builders.user("inspector_jc").id
    assert _conflicts(app) == [(mine, tid, "former_employer", uid)]
    assert "本人回避单位" in c.get("/conflicts").text and "本人申报" in c.get("/conflicts").text
    assert len(_log(app, "conflict_declared")) == 1


def test_inspector_cannot_declare_for_someone_else(app, login_as):
    _own_inspector(app)
    other = builders.inspector(app, "JC0002", "别人")
    builders.target(app, 1)
    r = post(login_as("inspector_jc"), "/conflicts/new", {"inspector_id": str(other), "credit_code": builders.code(1),
                                                          "kind": "other", "reason": "替别人申报"})
    assert r.status_code == 403
    assert _conflicts(app) == []


def test_inspector_without_a_directory_record_is_told_what_to_do(app, login_as):
    builders.target(app, 1)
    c = login_as("inspector_jc")
    assert "尚未关联执法人员名录中的记录" in c.get("/conflicts/new").text
    assert "尚未关联执法人员名录中的记录" in c.get("/conflicts").text
    r = post(c, "/conflicts/new", {"credit_code": builders.code(1), "kind": "other", "reason": "x"})
    assert r.status_code == 403
    assert _conflicts(app) == []


def test_inspector_sees_only_their_own_conflicts(app, login_as):
    mine = _own_inspector(app)
    other = builders.inspector(app, "JC0002", "别的检查员")
    builders.conflict(app, mine, builders.target(app, 1, name="我的回避单位"))
    other_conflict = builders.conflict(app, other, builders.target(app, 2, name="别人的回避单位"))
    c = login_as("inspector_jc")
    page = c.get("/conflicts").text
    assert "我的回避单位" in page and "别人的回避单位" not in page
    assert "别人的回避单位" not in c.get("/conflicts", query_string={"q": "别人"}).text
    assert c.get(f"/conflicts/{other_conflict}/withdraw").status_code == 403
    staff_page = login_as("staff_jc").get("/conflicts").text
    assert "我的回避单位" in staff_page and "别人的回避单位" in staff_page


def test_withdraw_needs_a_reason_which_is_logged(app, login_as):
    iid = builders.inspector(app, "JC0001", "张明")
    cid = builders.conflict(app, iid, builders.target(app, 1))
    c = login_as("staff_jc")
    assert "撤销原因" in c.get(f"/conflicts/{cid}/withdraw").text
    r = post(c, f"/conflicts/{cid}/withdraw", {"reason": "  "})
    assert r.status_code == 422 and "请写明撤销原因" in r.text
    assert len(_conflicts(app)) == 1
    r = post_as_loaded(c, f"/conflicts/{cid}/withdraw", {"reason": "登记错误：该人员与该单位无利害关系"})
    assert r.status_code == 302
    assert _conflicts(app) == []
    entry = _log(app, "conflict_withdrawn")[0]
    assert entry["reason"] == "登记错误：该人员与该单位无利害关系"
    assert entry["username"] == "staff_jc" and entry["objects"]["inspector"] == "JC0001"
    assert builders.code(1) not in json.dumps(entry, ensure_ascii=False)


def test_only_staff_of_the_department_withdraw(app, login_as):
    iid = builders.inspector(app, "JC0001", "张明")
    cid = builders.conflict(app, iid, builders.target(app, 1))
    assert post(login_as("supervisor"), f"/conflicts/{cid}/withdraw", {"reason": "x"}).status_code == 403
    assert post(login_as("staff_scj"), f"/conflicts/{cid}/withdraw", {"reason": "x"}).status_code == 404
    assert "张明" not in login_as("staff_scj").get("/conflicts").text
    assert len(_conflicts(app)) == 1


def test_conflict_list_search_and_htmx_fragment(app, login_as):
    a = builders.inspector(app, "JC0001", "张明")
    b = builders.inspector(app, "JC0002", "李华")
    builders.conflict(app, a, builders.target(app, 1, name="甲公司"), kind="relative")
    builders.conflict(app, b, builders.target(app, 2, name="乙公司"), kind="other")
    c = login_as("staff_jc")
    part = c.get("/conflicts", query_string={"q": "乙公司"}, headers={"HX-Request": "true"})
    assert "<html" not in part.text and "李华" in part.text and "张明" not in part.text
    assert "张明" in c.get("/conflicts", query_string={"q": builders.code(1)[:14]}).text
    page = c.get("/conflicts", query_string={"kind": "other"}).text
    assert "李华" in page and "张明" not in page and "<html" in page


def _refusal_reasons(app) -> list[str]:
    with app.app_context():
        bodies = db.session.execute(select(AccessLogEntry.body).where(AccessLogEntry.outcome == "refused")).scalars()
        return [json.loads(b)["reason"] for b in bodies]


def test_a_withdrawal_of_a_conflict_changed_since_it_was_read_is_refused_showing_what_changed(app, login_as):
    iid = builders.inspector(app, "JC0001", "张明")
    cid = builders.conflict(app, iid, builders.target(app, 1), kind="relative", reason="配偶在该单位任职")
    c = login_as("staff_jc")
    url = f"/conflicts/{cid}/withdraw"
    stale = loaded_version(c, url)
    with app.app_context():  # meanwhile an import updates the conflict (a new version, as imports write it)
        conflict = db.session.get(Conflict, cid)
        conflict.kind, conflict.reason = "other", "曾在该单位任职，未满两年"
        db.session.commit()
    reads_before = len(_log(app, "conflict_read"))
    r = post(c, url, {"row_version": stale, "seen_kind": "relative", "seen_reason": "配偶在该单位任职",
                      "reason": "登记错误：不需要回避"})
    assert r.status_code == 409
    assert "别人已经修改了它" in r.text and "这次撤销没有执行" in r.text
    box = r.text[r.text.index("stale-changes"):r.text.index("</section>")]
    for part in ("回避类型", "近亲属关系", "登记的原因", "配偶在该单位任职", "曾在该单位任职，未满两年", "您打开时看到的内容"):
        assert part in box, part
    assert "登记错误：不需要回避</textarea>" in r.text  # the typed reason is kept
    assert len(_conflicts(app)) == 1 and _log(app, "conflict_withdrawn") == []  # nothing withdrawn
    assert _refusal_reasons(app) == ["stale_version"]
    assert len(_log(app, "conflict_read")) == reads_before + 1  # the page shown read the target as it logs
    # having read the conflict as it is now, the person may withdraw it
    assert post_as_loaded(c, url, {"reason": "登记错误：不需要回避"}).status_code == 302
    assert _conflicts(app) == []


def test_a_withdrawal_racing_another_is_told_the_conflict_is_gone(app, login_as, monkeypatch):
    from ssj import concurrency

    iid = builders.inspector(app, "JC0001", "张明")
    cid = builders.conflict(app, iid, builders.target(app, 1))
    c = login_as("staff_jc")
    url = f"/conflicts/{cid}/withdraw"
    data = {"row_version": loaded_version(c, url), "reason": "登记错误"}
    real_check = concurrency.check

    def colleague_withdraws_first(row, submitted):
        real_check(row, submitted)  # this person's version was current when checked ...
        with db.engine.begin() as other:  # ... then a colleague's withdrawal commits before the DELETE
            other.execute(Conflict.__table__.delete().where(Conflict.__table__.c.id == cid))

    monkeypatch.setattr(concurrency, "check", colleague_withdraws_first)
    r = post(c, url, data)
    assert r.status_code == 409 and "别人已经撤销了这条回避关系" in r.text
    assert _log(app, "conflict_withdrawn") == [] and _refusal_reasons(app) == ["stale_version"]
