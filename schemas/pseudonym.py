"""Pseudonymized firm identifiers: raw tax numbers never reach the warehouse.

At ingest, every `firm_id` is replaced by a keyed hash (HMAC-SHA256) of the identifier.
The same key gives the same pseudonym in every file and every period, so firms can be
followed over time and joined across entities; without the key, a pseudonym cannot be
turned back into a tax number, nor confirmed by hashing a guessed one.

The key comes from `MES_EVAL_PSEUDONYM_KEY` (the key itself) or
`MES_EVAL_PSEUDONYM_KEY_FILE` (a file holding it, kept outside the repository), or the run
configuration's `pseudonym_key_file`. The synthetic demo uses a fixed, public demo key.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from pathlib import Path

import pandas as pd

# Public on purpose: only ever used for generated demo data.
DEMO_KEY = b"mes-eval synthetic demo key: not for real data"
MIN_KEY_BYTES = 16
PREFIX = "F"
# Tax numbers are written with and without punctuation (76.123.456-7 / 761234567):
# the canonical form keeps letters and digits only, upper case.
_NOT_ALNUM = re.compile(r"[^0-9A-Z]")


class PseudonymKeyError(ValueError):
    """No usable pseudonymization key; the message says how to provide one."""


def resolve_key(key_file: Path | None = None) -> bytes:
    """The pseudonymization key from the environment or a key file."""
    if os.environ.get("MES_EVAL_PSEUDONYM_KEY"):
        key = os.environ["MES_EVAL_PSEUDONYM_KEY"].encode()
        source = "MES_EVAL_PSEUDONYM_KEY"
    else:
        path = key_file or (
            Path(os.environ["MES_EVAL_PSEUDONYM_KEY_FILE"])
            if os.environ.get("MES_EVAL_PSEUDONYM_KEY_FILE")
            else None
        )
        if path is None:
            raise PseudonymKeyError(
                "no pseudonymization key: set MES_EVAL_PSEUDONYM_KEY, or MES_EVAL_PSEUDONYM_KEY_FILE "
                "(or pseudonym_key_file in the config) to a file outside the repository"
            )
        try:
            key = Path(path).expanduser().read_bytes().strip()
        except OSError as exc:
            raise PseudonymKeyError(
                f"cannot read the pseudonymization key file {path}: {exc.strerror}"
            ) from None
        source = str(path)
    if len(key) < MIN_KEY_BYTES:
        raise PseudonymKeyError(
            f"the pseudonymization key from {source} is shorter than {MIN_KEY_BYTES} bytes"
        )
    return key


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
