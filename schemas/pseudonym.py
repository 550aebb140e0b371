"""Pseudonymized firm identifiers: raw tax numbers never reach the warehouse.

At ingest, every `firm_id` is replaced by a keyed hash (HMAC-SHA256) of the identifier.
The same key gives the same pseudonym in every file and every period, so firms can be
followed over time and joined across entities; without the key, a pseudonym cannot be
turned back into a tax number, nor confirmed by hashing a guessed one.

Where the key comes from, first found wins (`key_source`):

1. the command line's `--key-file`;
2. the run configuration's `pseudonym_key_file`;
3. `MES_EVAL_PSEUDONYM_KEY_FILE` (a file holding the key, outside the repository);
4. `MES_EVAL_PSEUDONYM_KEY` (the key itself).

The public demo key (`DEMO_KEY`) is used only for synthetic data (`synthetic: true`)
with no key file given (1 or 2): a configured key file always wins over it.

The key itself is secret: it is read where pseudonyms are made (`KeySource.read`) and
never passed as a Prefect parameter, logged or stored. What travels is a `KeySource` (an
origin and a path) and what is stored is the key's fingerprint (`key_fingerprint`), which
tells keys apart without revealing them.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd

# Public on purpose: only ever used for generated demo data.
DEMO_KEY = b"mes-eval synthetic demo key: not for real data"
MIN_KEY_BYTES = 16
PREFIX = "F"
ENV_KEY = "MES_EVAL_PSEUDONYM_KEY"
ENV_KEY_FILE = "MES_EVAL_PSEUDONYM_KEY_FILE"
# for the --help of the commands that take a key, and the README
KEY_PRECEDENCE = (
    "The pseudonymization key comes from, first found: --key-file, the config's "
    f"pseudonym_key_file, {ENV_KEY_FILE}, {ENV_KEY}."
)
# a fixed text hashed with the key: its digest tells keys apart and reveals nothing of
# the key (HMAC is a PRF), nor helps to test guessed tax numbers, which it never hashes
FINGERPRINT_TEXT = b"mes-eval key fingerprint v1"
FINGERPRINT_HEX = 16  # 64 bits: two keys collide by chance once in 1.8e19
# Tax numbers are written with and without punctuation (76.123.456-7 / 761234567):
# the canonical form keeps letters and digits only, upper case.
_NOT_ALNUM = re.compile(r"[^0-9A-Z]")

Origin = Literal["--key-file", "pseudonym_key_file", "env-file", "env", "demo"]
# how each origin is named to a user, in precedence order
ORIGIN_NAMES: dict[Origin, str] = {
    "--key-file": "--key-file",
    "pseudonym_key_file": "pseudonym_key_file in the config",
    "env-file": ENV_KEY_FILE,
    "env": ENV_KEY,
    "demo": "the public demo key (synthetic data)",
}


class PseudonymKeyError(ValueError):
    """No usable pseudonymization key; the message says how to provide one."""


@dataclass(frozen=True)
class KeySource:
    """Where the pseudonymization key comes from, never the key: safe to print or pass.

    `ignored` names the other sources that are set but lose to this one (see the module
    docstring), so a run can say which one it used."""

    origin: Origin
    path: Path | None = None  # the key file, for the file origins
    ignored: tuple[str, ...] = ()

    def describe(self) -> str:
        """The source in a few words, e.g. `key file /etc/mes/key (--key-file)`."""
        if self.origin == "demo":
            return "the public demo key (synthetic: true, no key file configured)"
        if self.origin == "env":
            return f"{ENV_KEY} (environment)"
        return f"key file {self.path} ({ORIGIN_NAMES[self.origin]})"

    def note(self) -> str | None:
        """One line naming the source used when more than one is set, else None."""
        if not self.ignored:
            return None
        return f"Pseudonymization key: {self.describe()}; also set, not used: {', '.join(self.ignored)}."

    def read(self) -> bytes:
        """The key itself (PseudonymKeyError when it cannot be read or is too short).

        Called where pseudonyms are made, so the bytes stay in that process's memory."""
        if self.origin == "demo":
            return DEMO_KEY
        if self.origin == "env":
            key = os.environ.get(ENV_KEY, "").encode()
        else:
            assert self.path is not None
            try:
                key = self.path.expanduser().read_bytes().strip()
            except OSError as exc:
                raise PseudonymKeyError(
                    f"cannot read the pseudonymization key file {self.path} "
                    f"({ORIGIN_NAMES[self.origin]}): {exc.strerror}"
                ) from None
        if len(key) < MIN_KEY_BYTES:
            raise PseudonymKeyError(
                f"the pseudonymization key from {self.describe()} is shorter than "
                f"{MIN_KEY_BYTES} bytes"
            )
        return key


def key_source(
    cli_file: Path | None = None, config_file: Path | None = None, *, synthetic: bool = False
) -> KeySource:
    """The source of the key, by precedence: `--key-file`, the config's key file, then
    `MES_EVAL_PSEUDONYM_KEY_FILE`, then `MES_EVAL_PSEUDONYM_KEY`. Synthetic data without a
    key file (command line or config) use the public demo key, whatever the environment
    holds: a key kept for real data is not spent on demo data, and the demo's pseudonyms
    stay reproducible. PseudonymKeyError when there is none."""
    env_file = os.environ.get(ENV_KEY_FILE) or None
    candidates: list[tuple[Origin, Path | None]] = [
        ("--key-file", cli_file),
        ("pseudonym_key_file", config_file),
    ]
    if synthetic:
        candidates.append(("demo", None))
    candidates += [("env-file", Path(env_file) if env_file else None)]
    candidates += [("env", None)] if os.environ.get(ENV_KEY) else []
    present = [
        (origin, path)
        for origin, path in candidates
        if path is not None or origin in ("demo", "env")
    ]
    if not present:
        raise PseudonymKeyError(
            "no pseudonymization key: pass --key-file, or set pseudonym_key_file in the config, "
            f"or {ENV_KEY_FILE} to a file outside the repository (or {ENV_KEY} to the key)"
        )
    (origin, path), rest = present[0], present[1:]
    return KeySource(origin, path, tuple(ORIGIN_NAMES[o] for o, _ in rest))


def resolve_key(key_file: Path | None = None) -> bytes:
    """The pseudonymization key: from `key_file` (the command line's), else the
    environment (`key_source`)."""
    return key_source(cli_file=key_file).read()


def key_fingerprint(key: bytes) -> str:
    """A fingerprint of the key: the same for the same key, different for another, and
    of no use to anyone without the key (a keyed hash of a fixed text, truncated)."""
    return hmac.new(key, FINGERPRINT_TEXT, hashlib.sha256).hexdigest()[:FINGERPRINT_HEX]


def canonical_id(raw: str) -> str:
    """The identifier without punctuation or spaces, upper case."""
    return _NOT_ALNUM.sub("", raw.upper())


def pseudonym(raw: str, key: bytes) -> str:
    """The keyed hash of one identifier (80 bits: collisions are negligible at 1e7 firms)."""
    digest = hmac.new(key, canonical_id(raw).encode("utf-8"), hashlib.sha256).hexdigest()
    return PREFIX + digest[:20]


def pseudonymize(ids: pd.Series, key: bytes) -> pd.Series:
    """Replace every identifier by its pseudonym; empty cells stay empty."""
    present = ids.dropna().astype(str)
    present = present[present.str.strip() != ""]
    # hash each distinct identifier once: a panel repeats each firm for every year
    lookup = {raw: pseudonym(raw, key) for raw in present.unique()}
    out = ids.astype(object).copy()
    out.loc[present.index] = present.map(lookup)
    return out
