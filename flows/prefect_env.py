"""Settings that let Prefect run offline, set by the project before Prefect is imported.

Without a server, Prefect starts a temporary local one in each process. Offline it must
not phone home, and it needs a generous start-up timeout on a 2-core machine. Values a
user has already set in the environment win.
"""

from __future__ import annotations

import os
from pathlib import Path


def home() -> Path:
    """Folder for the project's local state (Prefect database, logs); MES_EVAL_HOME overrides."""
    return Path(os.environ.get("MES_EVAL_HOME", ".mes-eval")).resolve()


def configure() -> None:
    """Set Prefect's offline settings in this process's environment."""
    defaults = {
        "PREFECT_HOME": str(home() / "prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
        # run logs (tracebacks included) go to Prefect's database, where `prefect flow-run
        # logs` shows them; the console is the CLI's, which prints one line per problem
        "PREFECT_LOGGING_LEVEL": "INFO",
        "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "CRITICAL",
        "PREFECT_UI_ENABLED": "false",
    }
    for name, value in defaults.items():
        os.environ.setdefault(name, value)
    # Prefect's server cannot create its database in a folder that does not exist yet
    Path(os.environ["PREFECT_HOME"]).expanduser().mkdir(parents=True, exist_ok=True)
