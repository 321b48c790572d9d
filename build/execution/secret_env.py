"""Which environment variables hold secrets the build is told about: a name containing
TOKEN, KEY, SECRET or PASSWORD, or one the site lists under `execution.secret_env`.
Kept apart from `redact` (which looks for them) so that the no-op check can
fingerprint them without importing the scanner."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping

SECRET_NAME_PARTS = ("TOKEN", "KEY", "SECRET", "PASSWORD")
# Short or common values would turn every "true" in an output into a marker.
MIN_SECRET_LENGTH = 6
_NOT_SECRET_VALUES = frozenset({"true", "false", "none", "null", "enabled", "disabled"})


def is_secret_name(name: str, extra_names: Iterable[str] = ()) -> bool:
    upper = name.upper()
    return any(part in upper for part in SECRET_NAME_PARTS) or name in set(extra_names)


def secret_env_values(environ: Mapping[str, str], extra_names: Iterable[str] = ()) -> dict[str, str]:
    """The secret variables of an environment: name -> value."""
    extra = set(extra_names)
    return {
        name: value
        for name, value in environ.items()
        if is_secret_name(name, extra)
        and len(value.strip()) >= MIN_SECRET_LENGTH
        and value.strip().lower() not in _NOT_SECRET_VALUES
    }


def secrets_digest(secrets: Mapping[str, str], salt: bytes) -> str:
    """What a cache records of the secrets a site was checked for: salted and hashed, never the values."""
    return hashlib.sha256(salt + repr(sorted(secrets.items())).encode()).hexdigest()
