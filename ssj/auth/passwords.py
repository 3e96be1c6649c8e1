"""argon2id password hashing and the password policy."""
from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verified against when the username is unknown, so that timing does not tell.
_DUMMY = _hasher.hash("ssj-dummy-password-for-timing")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _DUMMY, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return _hasher.check_needs_rehash(stored)


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The shipped list of the most common passwords (lower case); see the file's header for its source."""
    text = (Path(__file__).with_name("common_passwords.txt")).read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def password_problem(password: str, min_length: int, *, username: str = "",
                     current_hash: str | None = None) -> str | None:
    """None if the password may be set, else one Chinese sentence saying what to change (SPEC §4; issue 10).

    Length counts characters, so a Chinese character counts as one (a
    passphrase of 12 Chinese characters is long enough). `current_hash`
    is the account's present password, which the new one may not repeat.
    """
    if len(password) < min_length:
        return f"密码至少需要 {min_length} 个字符（汉字也按一个字符计），现在是 {len(password)} 个"
    if password.isascii() and (password.isdigit() or password.isalpha()):
        return "密码不能只由数字或只由字母组成"
    if username and username.lower() in password.lower():
        return "密码不能包含用户名"
    if password.lower() in common_passwords():
        return "这是最常见的密码之一，很容易被猜中，请换一个"
    if current_hash and verify_password(current_hash, password):
        return "新密码不能与当前密码相同"
    return None
