"""Shared pieces of the directory benchmarks: synthetic county data, fresh instances, memory.

Everything is real: a migrated SQLite instance with its own keys under
bench/out/, the real app factory, the real routes through Flask's test
client. Nothing here asserts; the benchmarks print their figures.
"""
from __future__ import annotations

import json
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

OUT = Path(__file__).resolve().parent / "out"
PASSWORD = "Bench-password-1"
STAFF = "bench_staff"

TOWNSHIPS = (
    "东城街道", "老城街道", "新城街道", "黄寨镇", "练集镇", "魏集镇", "固墙镇", "白寺镇", "巴村镇", "谭庄镇",
    "邓城镇", "胡吉镇", "城关乡", "平店乡", "袁老乡", "化河乡", "姚集乡", "舒庄乡", "大武乡", "张明乡",
    "郝岗乡", "张庄乡", "汤庄乡",
)
INDUSTRIES = (
    "制造业", "建筑业", "批发和零售业", "住宿和餐饮业", "交通运输业", "居民服务业", "农副食品加工业",
    "纺织服装业", "教育", "卫生和社会工作", "信息技术服务业", "租赁和商务服务业", "房地产业", "文化娱乐业",
)
BRAND = "华鑫源盛隆泰丰恒兴达昌瑞祥和顺安康宏伟金银豪利嘉乐美新天宇中正信诚德福永成聚远海明辉光耀峰"
TRADE = ("纺织", "食品", "建筑", "物流", "商贸", "餐饮", "机械", "电子", "农业", "医药", "服饰", "建材", "超市", "酒店")
FORM = ("有限公司", "有限责任公司", "股份有限公司", "农民专业合作社", "商行", "个体工商户")
SURNAMES = "王李张刘陈杨黄赵周吴徐孙朱马胡郭林何高罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英"
_ORG_SPACE = 31**7


def credit_code(i: int) -> str:
    """The i-th synthetic code: 商水县 region 411623, a unique organisation code, a valid check character."""
    from ssj.creditcode import ALPHABET, check_character

    n = (i * 7919 + 12345) % _ORG_SPACE  # a permutation, so codes are unique but not in file order
    org = ""
    for _ in range(7):
        n, d = divmod(n, 31)
        org = ALPHABET[d] + org
    first17 = "91411623MA" + org
    return first17 + check_character(first17)


def targets(n: int, seed: int = 2026) -> Iterator[dict[str, Any]]:
    """n enterprises as stored values, the same for every run with the same seed."""
    rng = random.Random(seed)
    for i in range(n):
        town = rng.randrange(len(TOWNSHIPS))
        yield {
            "credit_code": credit_code(i),
            "name": f"商水县{''.join(rng.sample(BRAND, 3))}{rng.choice(TRADE)}{rng.choice(FORM)}",
            "industry": rng.choice(INDUSTRIES),
            "is_small_micro": rng.random() < 0.7,
            "township": TOWNSHIPS[town],
            "address": f"商水县{TOWNSHIPS[town]}{rng.randint(1, 300)}号",
            "legal_rep": rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, rng.randint(1, 2))),
            "contact": f"13{rng.randint(0, 999999999):09d}",
            "status": rng.choices(("operating", "cancelled", "revoked", "moved"), (90, 5, 3, 2))[0],
            "complaint_count": rng.choices((0, 1, 2, 3, 5), (80, 10, 5, 3, 2))[0],
            "serious_violation": rng.random() < 0.02,
            "credit_grade": rng.choices("ABCD", (70, 20, 7, 3))[0],
        }


STATUS_LABELS = {"operating": "存续", "cancelled": "注销", "revoked": "吊销", "moved": "迁出"}


def target_cells(t: dict[str, Any]) -> list[Any]:
    """A stored target as the template's cells (the same order as the import columns)."""
    yes_no = {True: "是", False: "否"}
    return [
        t["credit_code"], t["name"], t["industry"], yes_no[t["is_small_micro"]], t["township"], t["address"],
        t["legal_rep"], t["contact"], STATUS_LABELS[t["status"]], t["complaint_count"],
        yes_no[t["serious_violation"]], t["credit_grade"],
    ]


def write_targets_xlsx(path: Path, n: int) -> None:
    from openpyxl import Workbook

    from ssj.imports.kinds import KINDS

    path.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(KINDS["targets"].title)
    ws.append(KINDS["targets"].headers())
    for t in targets(n):
        ws.append(target_cells(t))
    tmp = path.with_suffix(".tmp")
    wb.save(tmp)
    tmp.rename(path)


def fresh_instance(path: Path):
    """A new instance directory: keys, migrated database, one department, a staff user, townships."""
    from flask_migrate import upgrade

    from ssj import create_app
    from ssj.audit.service import ensure_head
    from ssj.auth.passwords import hash_password
    from ssj.extensions import db
    from ssj.keys import create_keys
    from ssj.models import Department, Section, Township, User

    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    create_keys(path / "keys")
    app = create_app({"IMPORT_RUN_INLINE": False}, instance_path=str(path))
    with app.app_context():
        upgrade()
        ensure_head()
        dept = Department(code="RSJ", name="商水县人力资源和社会保障局")
        section = Section(department=dept, code="JCDD", name="劳动保障监察大队")
        user = User(username=STAFF, display_name="基准测试", password_hash=hash_password(PASSWORD),
                    department=dept, section=section)
        user.set_roles(["staff"])
        db.session.add_all([dept, section, user])
        db.session.add_all(Township(code=f"{i + 1:02d}", name=name) for i, name in enumerate(TOWNSHIPS))
        db.session.commit()
        db.engine.dispose()
    return app


def app_for(path: Path):
    from ssj import create_app

    return create_app({"IMPORT_RUN_INLINE": False}, instance_path=str(path))


def signed_in_client(app):
    client = app.test_client()
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = client.post("/login", data={"username": STAFF, "password": PASSWORD, "csrf_token": token})
    if r.status_code != 302:
        raise RuntimeError("benchmark user could not sign in")
    with client.session_transaction() as session:
        token = session["csrf_token"]  # signing in issues a new one
    return client, token


def reset_peak() -> None:
    """Start the peak-RSS measurement now (Linux: writing 5 to clear_refs resets VmHWM).

    Signing in hashes with argon2id (64 MB for a moment); that is not import work.
    """
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass  # elsewhere the peak includes start-up


def cpu_seconds() -> float:
    """User + system CPU time of this process, all threads: steadier than wall time on a busy machine."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def run_phase(module: str, *args: str) -> dict[str, Any]:
    """Run one phase in its own process, so that its peak memory is its own."""
    done = subprocess.run(
        [sys.executable, "-m", module, "--phase", *args], capture_output=True, text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"phase {args[0]} of {module} failed")
    return json.loads(done.stdout.strip().splitlines()[-1])


def emit(result: dict[str, Any]) -> None:
    print(json.dumps(result))
