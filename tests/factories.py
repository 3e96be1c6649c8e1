"""A small, fixed organisation for tests (the demo county is too big to load per test)."""
from ssj.auth.passwords import hash_password
from ssj.extensions import db
from ssj.models import Department, Section, User

PASSWORD = "Test-password-1"

# username: (roles, department code, section code)
USERS = {
    "admin": (["admin"], "RSJ", None),
    "staff_jc": (["staff"], "RSJ", "JCDD"),
    "head_jc": (["section_head"], "RSJ", "JCDD"),
    "staff_sb": (["staff"], "RSJ", "SBG"),
    "inspector_jc": (["inspector"], "RSJ", "JCDD"),
    "supervisor": (["supervisor"], "RSJ", None),
    "discipline": (["discipline"], "RSJ", "JJ"),
    "staff_scj": (["staff"], "SCJ", "ZFJC"),
    "inspector_scj": (["inspector"], "SCJ", "ZFJC"),
}

# One user per role, for route x role tests.
BY_ROLE = {
    "admin": "admin",
    "staff": "staff_jc",
    "section_head": "head_jc",
    "inspector": "inspector_jc",
    "supervisor": "supervisor",
    "discipline": "discipline",
}


def seed_organisation() -> None:
    rsj = Department(code="RSJ", name="商水县人力资源和社会保障局")
    scj = Department(code="SCJ", name="商水县市场监督管理局")
    sections = {
        "JCDD": Section(department=rsj, code="JCDD", name="劳动保障监察大队"),
        "SBG": Section(department=rsj, code="SBG", name="社会保险股"),
        "JJ": Section(department=rsj, code="JJ", name="纪检监察室"),
        "ZFJC": Section(department=scj, code="ZFJC", name="执法稽查科"),
    }
    depts = {"RSJ": rsj, "SCJ": scj}
    db.session.add_all([rsj, scj, *sections.values()])
    hashed = hash_password(PASSWORD)
    for username, (roles, dept, sec) in USERS.items():
        user = User(
            username=username,
            display_name=username,
            password_hash=hashed,
            department=depts[dept],
            section=sections.get(sec) if sec else None,
        )
        user.set_roles(roles)
        db.session.add(user)
    db.session.flush()
