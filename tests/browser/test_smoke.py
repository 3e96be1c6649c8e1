"""The browser reaches the login page and a signed-in to-do page under the strict CSP."""
from tests.browser_support import sign_in
from tests.factories import PASSWORD


def test_sign_in_and_out(page, live_server):
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in(page, live_server, "staff_jc", PASSWORD)
    assert page.get_by_role("heading", name="待办").is_visible()
    page.get_by_role("button", name="退出").click()
    page.wait_for_url(live_server + "/login?ended=logout")
    assert "您已退出登录" in page.content()
    assert not [e for e in errors if "Content Security Policy" in e], errors
