"""Error pages: Chinese, saying what to do next, never a stack trace or a secret."""
from flask import Flask, current_app, g, render_template, request
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from . import audit
from .audit.refusals import refuse_change
from .audit.service import AuditWriteError
from .concurrency import StaleEdit
from .sealing.envelope import SealError
from .security.access import login_redirect

MESSAGES = {
    400: ("请求无效", "请求无法处理。请返回上一页刷新后重试。"),
    401: ("需要登录", "请先登录。"),
    403: ("没有权限", "您的角色或所属科室无权访问此页面。如确需访问，请联系本科室负责人或系统管理员。"),
    404: ("页面不存在", "您要找的页面不存在，或已被删除。请从导航菜单重新进入。"),
    405: ("请求方式不正确", "请通过页面上的按钮或表单操作。"),
    413: ("文件过大", "上传的文件超过了大小限制（64 MB）。请拆分后再上传。"),
    415: ("文件类型不支持", "上传的内容类型不受支持。请按页面说明选择文件后重试。"),
    422: ("内容无法处理", "提交的内容无法处理，没有保存任何内容。请按页面说明修改后重试。"),
    429: ("请求过于频繁", "操作过于频繁，请稍候片刻再试。"),
    409: ("别人同时修改了同一内容", "您保存时，别人刚刚保存了同一份内容，您这次的操作没有保存。"
               "请返回上一页，刷新后核对现在的内容再操作。"),
    500: ("系统错误", "系统内部出现错误，您的操作未被保存。请稍后重试；如反复出现，请联系系统管理员。"),
}


def _page(status: int, description: str | None = None):
    title, text = MESSAGES.get(status, MESSAGES[500])
    if status == 413:
        limit = current_app.config.get("MAX_CONTENT_LENGTH")
        if limit:
            text = f"上传的文件超过了 {limit / 1048576:g} MB 的大小限制，没有保存任何内容。请拆分或压缩后再上传。"
    if description and status in (400, 413):
        text = description
    body = render_template("errors/error.html", status=status, title=title, text=text)
    resp = (body, status)
    return resp


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if exc.code == 401:
            if request.headers.get("HX-Request"):
                body, status = _page(401)
                return body, 401, {"HX-Redirect": login_redirect().location}
            return login_redirect()
        # Werkzeug's own description is English ("The data value transmitted
        # exceeds the capacity limit."): only a description the app gave is shown.
        given = exc.description if exc.description != type(exc).description else None
        return _page(exc.code or 500, given)

    @app.errorhandler(AuditWriteError)
    def audit_failed(exc: AuditWriteError):
        # Fail closed: whatever was being read is not served (SPEC §4, §5).
        app.logger.error("access log could not be written; sealed content withheld")
        return render_template("errors/audit_failed.html"), 503

    @app.errorhandler(SealError)
    def seal_failed(exc: SealError):
        # A blob that does not authenticate under its own task, kind and record
        # id was altered or moved: show nothing from it, undo whatever the view
        # had begun (a half-run draw must not stay claimed), and keep a record.
        audit.discard_uncommitted()
        g.keep_changes = True
        try:
            audit.record(
                "sealed_integrity_failure",
                outcome="error",
                reason="ciphertext did not authenticate",
                objects={"endpoint": request.endpoint, "args": dict(request.view_args or {})},
                task_id=(request.view_args or {}).get("task_id"),
            )
        except AuditWriteError:
            return render_template("errors/audit_failed.html"), 503
        return render_template(
            "errors/error.html",
            title="保密数据校验失败",
            text="保密数据未通过完整性校验：记录可能被篡改或被移动到了别的位置。系统没有显示其中任何内容，"
            "此事已记入访问日志。请立即报告科室负责人和系统管理员，核查数据库和备份。",
            status=500,
        ), 500

    @app.errorhandler(StaleEdit)
    @app.errorhandler(StaleDataError)
    @app.errorhandler(IntegrityError)
    def concurrent_change(exc: Exception):
        # A save that clashed with another person's (a version that moved on, two
        # first saves of one record) where the view had no form to show again.
        # The failed transaction is rolled back before anything else touches the
        # session (rendering the page needs it), and the refusal is logged.
        app.logger.warning("save refused: concurrent change (%s)", type(exc).__name__)
        try:
            status = refuse_change("conflict", 409, objects={"error": type(exc).__name__})
        except AuditWriteError:
            return _fail_closed()
        return _page(status)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        # Roll back first: a failed flush leaves the session unusable, and the
        # error page itself reads the signed-in user through it. Then log the
        # failure (its class only: a message can quote a statement's values).
        app.logger.exception("unhandled error")
        audit.discard_uncommitted()
        g.keep_changes = True
        try:
            audit.record(
                f"error:{request.endpoint or 'unrouted'}",
                outcome="error",
                reason="exception",
                objects={"endpoint": request.endpoint, "method": request.method, "error": type(exc).__name__},
            )
        except Exception:
            app.logger.exception("the error's log entry could not be written")
            return _fail_closed()
        try:
            return _page(500)
        except Exception:
            app.logger.exception("the error page could not be rendered")
            return PLAIN_500, 500, {"Content-Type": "text/html; charset=utf-8"}


PLAIN_500 = "<!doctype html><meta charset=utf-8><title>系统错误</title><p>系统内部出现错误，您的操作未被保存。请稍后重试；如反复出现，请联系系统管理员。</p>"


def _fail_closed():
    audit.discard_uncommitted()
    try:
        return render_template("errors/audit_failed.html"), 503
    except Exception:
        return "访问日志写入失败，本次操作未执行。请联系系统管理员。", 503, {"Content-Type": "text/html; charset=utf-8"}
