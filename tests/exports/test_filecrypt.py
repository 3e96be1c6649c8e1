"""The at-rest file format and the streaming .xlsx writer, on their own (no Flask)."""
from __future__ import annotations

import hashlib
import io
from datetime import date
from decimal import Decimal

import openpyxl
import pytest

from ssj.exports import filecrypt, xlsxstream

AAD = b"ssj/export-file/v1|job:test"


def encrypt(data: bytes, key: bytes, aad: bytes = AAD) -> tuple[bytes, filecrypt.EncryptingWriter]:
    sink = io.BytesIO()
    writer = filecrypt.EncryptingWriter(sink, key, aad)
    for i in range(0, len(data), 7000):  # odd-sized writes cross chunk borders
        writer.write(data[i:i + 7000])
    writer.close()
    return sink.getvalue(), writer


@pytest.mark.parametrize("size", [0, 1, filecrypt.CHUNK, filecrypt.CHUNK + 1, 3 * filecrypt.CHUNK + 5])
def test_round_trip_of_any_size(size):
    key = filecrypt.new_key()
    data = bytes((i * 31) % 251 for i in range(size))
    blob, writer = encrypt(data, key)
    assert writer.size == size and writer.sha256 == hashlib.sha256(data).hexdigest()
    assert b"".join(filecrypt.decrypt_chunks(io.BytesIO(blob), key, AAD)) == data


def test_plaintext_does_not_appear_in_the_file():
    name = "商水县保密测试纺织有限公司".encode()
    blob, _ = encrypt(name * 5000, filecrypt.new_key())
    assert name not in blob


def _fails(blob: bytes, key: bytes, aad: bytes = AAD) -> bool:
    try:
        b"".join(filecrypt.decrypt_chunks(io.BytesIO(blob), key, aad))
    except filecrypt.FileCryptError:
        return True
    return False


def test_truncation_reordering_a_flipped_bit_another_job_or_key_all_fail():
    key = filecrypt.new_key()
    blob, _ = encrypt(b"x" * (2 * filecrypt.CHUNK + 100), key)
    header = len(filecrypt.MAGIC) + filecrypt.PREFIX_BYTES
    step = filecrypt.CHUNK + filecrypt.TAG
    first, second, rest = blob[header:header + step], blob[header + step:header + 2 * step], blob[header + 2 * step:]
    assert not _fails(blob, key)
    assert _fails(blob[:header + 2 * step], key)  # the last chunk cut off: the new last is not marked last
    assert _fails(blob[:header] + second + first + rest, key)
    flipped = bytearray(blob)
    flipped[-5] ^= 1
    assert _fails(bytes(flipped), key)
    assert _fails(blob, key, b"ssj/export-file/v1|job:other")
    assert _fails(blob, filecrypt.new_key())
    assert _fails(b"PK\x03\x04" + blob[4:], key)


def test_streamed_workbook_reads_back_with_its_types():
    out = io.BytesIO()
    rows = [["91411623MA0000001X", "甲<乙>&丙", date(2027, 3, 1), 3, Decimal("1.5"), True, None, "0394\x01-1"]]
    seen = []
    count = xlsxstream.write_sheet(out, "检查对象名录库", ["代码", "名称", "有效期", "次数", "比例", "是", "空", "电话"],
                                  rows, widths=[22, 30], text_columns=[0, 7], on_row=seen.append)
    assert count == 1 and seen == [1]
    ws = openpyxl.load_workbook(io.BytesIO(out.getvalue())).active
    assert ws.title == "检查对象名录库" and ws.freeze_panes == "A2" and ws["A1"].font.b
    values = [c.value for c in ws[2]]
    assert values[:6] == ["91411623MA0000001X", "甲<乙>&丙", values[2], 3, 1.5, True]
    assert values[2].date() == date(2027, 3, 1) and values[6] is None and values[7] == "0394-1"
    assert ws["A2"].number_format == "@" and ws.column_dimensions["A"].width == 22
