"""Public pages without login: the matter list and the inspector directory
(SPEC §6 "一公开"; Art 4, 5, 13). Nothing sealed is reachable from here."""
from flask import request

from ..listing import Page, paginate, render_list
from .. import clock
from ..models.directories import MATTER_METHODS
from ..security import access
from . import bp, service


def _public_page(stmt, count, fields) -> Page:
    page = paginate(stmt, count, scalars=False)
    return Page(items=service.as_public(page.items, fields), total=page.total, page=page.page, per_page=page.per_page)


@bp.route("/matters")
@access.public
def matters():
    """The published 随机抽查事项清单 (Art 4)."""
    q = request.args.get("q", "").strip()
    stmt, count = service.matters(q)
    page = _public_page(stmt, count, service.PUBLIC_MATTER_FIELDS)
    return render_list("public/matters.html", "public/_matters_results.html", page=page, q=q, methods=MATTER_METHODS)


@bp.route("/inspectors")
@access.public
def inspectors():
    """The published 执法检查人员名录 (Art 5): name, section, certificate number."""
    q = request.args.get("q", "").strip()
    stmt, count = service.inspectors(q, clock.today())
    page = _public_page(stmt, count, service.PUBLIC_INSPECTOR_FIELDS)
    return render_list("public/inspectors.html", "public/_inspectors_results.html", page=page, q=q)
