"""The 商用密码 suite (SPEC §4): SM4-GCM seals, SM3 / HMAC-SM3 chain the log, checked against
independent implementations (cryptography's SM4 block cipher in GCM mode, OpenSSL's SM3 via hashlib)."""
from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from sqlalchemy import select

from ssj import suites
from ssj.audit import chain
from ssj.extensions import db
from ssj.models import AccessLogEntry, TaskKey
from ssj.sealing import envelope
from tests.conftest import CRYPTO_SUITE, login


def test_sm3_matches_the_standard_test_vector():
    # GB/T 32905-2016, example 1: SM3("abc")
    assert suites.digest_hex("sm", b"abc") == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"


def test_sm4_gcm_blob_opens_with_a_plain_sm4_gcm_decryptor():
    key = suites.new_key("sm")
    blob = envelope.seal(key, 3, "result", 1, b"91411623MA40000001")
    assert blob[:1] == b"\x02" and len(key) == 16
    nonce, body = blob[1:13], blob[13:]
    dec = Cipher(algorithms.SM4(key), modes.GCM(nonce, body[-16:])).decryptor()
    dec.authenticate_additional_data(envelope.record_aad(3, "result", 1))
    assert dec.update(body[:-16]) + dec.finalize() == b"91411623MA40000001"
    with pytest.raises(envelope.SealError):
        envelope.open_sealed(key, 3, "result", 2, blob)


def test_the_instance_uses_its_suite_throughout(app):
    """Under SSJ_TEST_CRYPTO=sm (make test runs a part of the suite so) every sealed blob is SM4-GCM
    and the log is an SM3 chain with HMAC-SM3 MACs; by default AES-256-GCM and SHA-256."""
    from ssj.sealing.service import open_json, seal_json
    from tests.ceremony.conftest import build_world

    world = build_world(app)
    c = app.test_client()
    assert login(c, "staff_jc").status_code == 302
    with app.app_context():
        keys = app.extensions["ssj.keys"]()
        assert keys.crypto_suite == CRYPTO_SUITE and len(keys.kek) == suites.KEY_BYTES[CRYPTO_SUITE]
        blob = seal_json(world.task_id, "probe", 1, {"credit_code": "91411623MA40000001"})
        db.session.commit()
        assert blob[:1] == envelope.VERSIONS[CRYPTO_SUITE]
        assert open_json(world.task_id, "probe", 1, blob) == {"credit_code": "91411623MA40000001"}
        wrapped = db.session.execute(select(TaskKey.wrapped_key)).scalars().all()
        assert wrapped and all(w[:1] == envelope.VERSIONS[CRYPTO_SUITE] for w in wrapped)
        rows = db.session.execute(select(AccessLogEntry).order_by(AccessLogEntry.seq.desc()).limit(3)).scalars().all()
        assert rows
        for e in rows:
            data = bytes.fromhex(e.prev_hash) + e.body.encode()
            want = hashlib.new("sm3", data).hexdigest() if CRYPTO_SUITE == "sm" else hashlib.sha256(data).hexdigest()
            assert e.entry_hash == want
            assert e.entry_mac == chain.entry_mac(keys.entry_mac_key, e.entry_hash, CRYPTO_SUITE)
