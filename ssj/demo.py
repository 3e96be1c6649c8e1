"""Placeholder demo data; replaced by the demo work."""
from .auth.passwords import hash_password
from .extensions import db
from .models import Department, Section, User

DEMO_PASSWORD = "ssj-demo-2026"


def load_demo(target_count: int = 3000) -> None:
    dept = Department(code="RSJ", name="商水县人力资源和社会保障局")
    sec = Section(department=dept, code="JCDD", name="劳动保障监察大队")
    db.session.add_all([dept, sec])
    for username, role in [("admin", "admin"), ("staff", "staff")]:
        u = User(username=username, display_name=username, password_hash=hash_password(DEMO_PASSWORD),
                 department=dept, section=sec)
        u.set_roles([role])
        db.session.add(u)
    db.session.flush()


def demo_logins():
    return [("admin", "系统管理员", ""), ("staff", "科室工作人员", "")]
