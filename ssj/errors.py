"""Error pages: Chinese, saying what to do next, never a stack trace or a secret."""
from flask import Flask, render_template, request
from werkzeug.exceptions import HTTPException

from .security.access import login_redirect

MESSAGES = {
    400: ("请求无效", "请求无法处理。请返回上一页刷新后重试。"),
    401: ("需要登录", "请先登录。"),
    403: ("没有权限", "您的角色或所属科室无权访问此页面。如确需访问，请联系本科室负责人或系统管理员。"),
    404: ("页面不存在", "您要找的页面不存在，或已被删除。请从导航菜单重新进入。"),
    405: ("请求方式不正确", "请通过页面上的按钮或表单操作。"),
    413: ("文件过大", "上传的文件超过了大小限制（64 MB）。请拆分后再上传。"),
    500: ("系统错误", "系统内部出现错误，您的操作未被保存。请稍后重试；如反复出现，请联系系统管理员。"),
}


def _page(status: int, description: str | None = None):
    title, text = MESSAGES.get(status, MESSAGES[500])
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
        return _page(exc.code or 500, exc.description)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        app.logger.exception("unhandled error")
        return _page(500)
