"""The office's to-do page reminds it to keep checkpoints outside the system and to look at the flags (SPEC §9)."""
from .test_verify import kept_checkpoints


def test_the_office_is_reminded_until_it_keeps_checkpoints_and_reviews_flags(app, office, login_as):
    page = office.get("/todo").text
    assert "留存访问日志检查点" in page and "还没有下载过访问日志检查点" in page
    assert "查看异常提示" in page and "还没有查看过异常提示" in page
    kept_checkpoints(office)
    assert office.get("/discipline/flags").status_code == 200
    page = office.get("/todo").text
    assert "留存访问日志检查点" not in page and "还没有查看过异常提示" not in page
    # Nobody else gets the office's reminders.
    assert "留存访问日志检查点" not in login_as("supervisor").get("/todo").text
