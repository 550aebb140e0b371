"""Tell someone when a run fails: a shell command and/or a webhook from the config."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import urllib.request

from flows.config import RunConfig
from schemas.pseudonym import ENV_KEY

log = logging.getLogger(__name__)


def notify_failure(config: RunConfig, run_id: str, flow: str, message: str) -> None:
    """Call the configured hooks; a failing hook is logged, never raised over the run's error."""
    details = {
        "run_id": run_id,
        "flow": flow,
        "status": "failed",
        "message": message,
        "warehouse": str(config.warehouse),
    }
    if config.notify_command:
        env = {**os.environ, **{f"MES_EVAL_RUN_{k.upper()}": v for k, v in details.items()}}
        env.pop(ENV_KEY, None)  # the hook needs no pseudonymization key: do not hand it one
        try:
            subprocess.run(config.notify_command, shell=True, env=env, timeout=60, check=True)
        except (OSError, subprocess.SubprocessError) as exc:
            log.warning("notification command failed: %s", exc)
    if config.notify_webhook:
        request = urllib.request.Request(
            config.notify_webhook,
            data=json.dumps(details).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=10):
                pass
        except OSError as exc:
            log.warning("notification webhook failed: %s", exc)
