from tests.conftest import login


def test_login_then_todo(client):
    r = login(client, "staff_jc")
    assert r.status_code == 302 and r.location.endswith("/todo")
    assert "待办" in client.get("/todo").text


def test_wrong_password_is_refused(client):
    r = login(client, "staff_jc", "not-the-password")
    assert "用户名或密码错误" in r.text
    assert client.get("/todo").status_code == 302
