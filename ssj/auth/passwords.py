"""argon2id password hashing."""
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


def password_problem(password: str, min_length: int) -> str | None:
    if len(password) < min_length:
        return f"密码至少需要 {min_length} 个字符"
    if password.isdigit() or password.isalpha():
        return "密码不能只由数字或只由字母组成"
    return None
