"""The crypto envelope refuses anything tampered, misplaced or under the wrong key."""
import pytest

from ssj.sealing import envelope as env


@pytest.fixture
def kek():
    return env.new_data_key()


def test_round_trip(kek):
    dk = env.new_data_key()
    wrapped = env.wrap_data_key(kek, 7, dk)
    assert env.unwrap_data_key(kek, 7, wrapped) == dk
    blob = env.seal(dk, 7, "selection", 1, "91411623MA40000001".encode())
    assert b"91411623MA40000001" not in blob
    assert env.open_sealed(dk, 7, "selection", 1, blob) == b"91411623MA40000001"


def test_same_plaintext_gives_different_ciphertexts(kek):
    dk = env.new_data_key()
    assert env.seal(dk, 1, "k", 1, b"same") != env.seal(dk, 1, "k", 1, b"same")


@pytest.mark.parametrize("task, kind, record", [(8, "selection", 1), (7, "team", 1), (7, "selection", 2)])
def test_wrong_associated_data_is_refused(task, kind, record):
    dk = env.new_data_key()
    blob = env.seal(dk, 7, "selection", 1, b"secret")
    with pytest.raises(env.SealError):
        env.open_sealed(dk, task, kind, record, blob)


def test_tampered_ciphertext_is_refused():
    dk = env.new_data_key()
    blob = bytearray(env.seal(dk, 7, "selection", 1, b"secret"))
    blob[-1] ^= 1
    with pytest.raises(env.SealError):
        env.open_sealed(dk, 7, "selection", 1, bytes(blob))


def test_a_wrapped_key_moved_to_another_task_or_kek_is_refused(kek):
    wrapped = env.wrap_data_key(kek, 7, env.new_data_key())
    with pytest.raises(env.SealError):
        env.unwrap_data_key(kek, 8, wrapped)
    with pytest.raises(env.SealError):
        env.unwrap_data_key(env.new_data_key(), 7, wrapped)


def test_rewrap_keeps_the_data_key(kek):
    dk = env.new_data_key()
    new_kek = env.new_data_key()
    rewrapped = env.rewrap(kek, new_kek, 3, env.wrap_data_key(kek, 3, dk))
    assert env.unwrap_data_key(new_kek, 3, rewrapped) == dk
    assert env.kek_id(kek) != env.kek_id(new_kek)


def test_truncated_or_foreign_blob_is_refused():
    dk = env.new_data_key()
    for blob in (b"", b"\x02" + b"\0" * 40, env.seal(dk, 1, "k", 1, b"x")[:20]):
        with pytest.raises(env.SealError):
            env.open_sealed(dk, 1, "k", 1, blob)
