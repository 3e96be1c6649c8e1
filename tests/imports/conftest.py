"""Fixtures for import tests: spreadsheets built with openpyxl, uploaded through the real routes."""
from __future__ import annotations

import io
import re

import openpyxl
import pytest

from ssj import creditcode
from ssj.extensions import db
from ssj.models import ImportJob, Township
from tests.conftest import csrf_of

from ssj.imports.kinds import KINDS


def code(n: int, prefix: str = "91411623MA") -> str:
    """A valid unified social credit code, distinct for each n."""
    body = f"{prefix}{n:07d}"
    return body + creditcode.check_character(body)


def bad_check(valid: str) -> tuple[str, str]:
    """The code with a wrong last character, and the character that would be right."""
    wrong = "0" if valid[-1] != "0" else "1"
    return valid[:-1] + wrong, valid[-1]


def xlsx(headers, rows, title="数据") -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = title
    ws.append(list(headers))
    for row in rows:
        ws.append(list(row))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def headers(kind: str) -> list[str]:
    return KINDS[kind].headers()


def target_row(n: int, **over):
    row = {
        "统一社会信用代码": code(n), "单位名称": f"商水县测试{n}有限公司", "行业类型": "制造业",
        "小微企业(是/否)": "是", "乡镇（街道）": "东城街道", "地址": f"东城街道{n}号", "法定代表人": "张三",
        "联系电话": "0394-5420000", "经营状态(存续/注销/吊销/迁出)": "存续", "被投诉举报次数": 0,
        "严重违法违规记录(是/否)": "否", "信用等级(A/B/C/D)": "A",
    }
    row.update(over)
    return [row[h] for h in headers("targets")]


def upload(client, kind: str, body: bytes, filename: str = "名录.xlsx"):
    return client.post(
        f"/imports/{kind}",
        data={"csrf_token": csrf_of(client), "file": (io.BytesIO(body), filename)},
        content_type="multipart/form-data",
    )


def job_of(app, response) -> ImportJob:
    assert response.status_code == 303, response.text
    token = re.search(r"/imports/jobs/([^/?]+)", response.headers["Location"]).group(1)
    with app.app_context():
        job = db.session.execute(db.select(ImportJob).where(ImportJob.token == token)).scalar_one()
        db.session.expunge(job)
        return job


@pytest.fixture
def townships(app):
    with app.app_context():
        db.session.add_all([Township(code="01", name="东城街道"), Township(code="02", name="黄寨镇")])
        db.session.commit()
