"""An instance with log entries never starts with new keys in place of lost ones (SPEC §4, §5)."""
from __future__ import annotations

import pytest

from ssj import create_app
from ssj.keys import KEY_FILES, KeyError_

from .conftest import AUDIT_CONFIG, Attacker, database_url


@pytest.mark.parametrize("lost", [KEY_FILES, ("audit_signing.pem",), ("audit.key",)])
def test_starting_without_key_files_is_a_clear_error_and_makes_no_new_keys(instance_path, lost):
    key_dir = instance_path / "keys"
    assert Attacker(database_url(instance_path), key_dir).count() > 0
    kept = {p.name: p.read_bytes() for p in key_dir.iterdir() if p.name not in lost}
    for name in lost:
        (key_dir / name).unlink()

    with pytest.raises(KeyError_) as err:
        create_app(dict(AUDIT_CONFIG), instance_path=str(instance_path))

    message = str(err.value)
    assert all(name in message for name in lost)
    assert "请从备份恢复密钥" in message
    # Nothing was generated in their place, and the remaining keys are untouched.
    assert {p.name: p.read_bytes() for p in key_dir.iterdir()} == kept

