"""`escalator serve`: the Engine over HTTP (escalator.service), served by uvicorn."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from escalator.cli._options import BACKEND, POLICIES, RULES, BackendName

class LogMode(str, Enum):
    strict = "strict"
    best_effort = "best-effort"

HELP = """Serve decisions over HTTP: POST /v1/decide, /v1/decide/batch, /v1/explain, /v1/reload; GET /v1/policies, /healthz, /metrics; the OpenAPI schema at /openapi.json and /docs.

Listens on 127.0.0.1 unless --host says otherwise. With --token-file every endpoint but /healthz needs `Authorization: Bearer TOKEN`. With --log every decision is recorded (a file path or sqlite:///FILE for SQLite, postgresql://... for PostgreSQL); when it cannot be written the request fails with 503, or with --log-mode best-effort the decision is still answered and the failure counted in /metrics. Fields a policy lists under log.mask are stored as keyed hashes (key: --mask-key-file or ESCALATOR_LOG_KEY).

Policies are reloaded by POST /v1/reload, or by watching the folders with --watch SECONDS; a new set is validated first and a bad one is refused while the old one keeps serving.
"""

EXAMPLES = """Examples:

  escalator serve --policies policies --rules rules --log decisions.db

  curl -s localhost:8080/v1/decide -H 'content-type: application/json' -d '{"case": {...}}'
"""


def serve(
    policies: Optional[Path] = POLICIES,
    rules: Optional[Path] = RULES,
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (default: this machine only)."),
    port: int = typer.Option(8080, "--port", min=1, max=65535, help="TCP port."),
    token_file: Optional[Path] = typer.Option(None, "--token-file", help="File holding the bearer token."),
    log: Optional[str] = typer.Option(None, "--log", help="Decision log URL: FILE, sqlite:///FILE or postgresql://..."),
    log_mode: LogMode = typer.Option(LogMode.strict, "--log-mode",
                                     help="strict: no decision without a log row (503); best-effort: answer anyway."),
    mask_key_file: Optional[Path] = typer.Option(None, "--mask-key-file",
                                                 help="Key for masked fields (default: $ESCALATOR_LOG_KEY)."),
    watch: float = typer.Option(0, "--watch", min=0, help="Check the policy folders every N seconds (0: off)."),
    max_body: int = typer.Option(1_048_576, "--max-body-bytes", min=1024, help="Largest request body."),
    max_batch: int = typer.Option(1000, "--max-batch", min=1, help="Most cases in one batch request."),
    backend: BackendName = BACKEND,
    access_log: bool = typer.Option(False, "--access-log/--no-access-log", help="One line per request on stderr."),
) -> None:
    from escalator.cli._console import bad_input, err
    from escalator.cli._folders import folder_pair
    from escalator.errors import EscalatorError

    with bad_input():
        policy_dir, rule_dir = folder_pair(policies, rules)
        token = _token(token_file) if token_file is not None else None
        if token is None and host not in ("127.0.0.1", "localhost", "::1"):
            err(f"warning: listening on {host} without --token-file: anyone who reaches it can ask for decisions")
        from escalator.log.masking import read_key
        from escalator.log.store import DecisionLog
        from escalator.service.app import ServiceConfig, create_app

        key = read_key(mask_key_file)
        decision_log = DecisionLog(log) if log is not None else None
        config = ServiceConfig(policy_dir, rule_dir, backend.value, token, decision_log, log_mode.value, key,
                               max_body, max_batch, watch or None)
        app = create_app(config)
    import uvicorn

    err(f"escalator: serving {app.state.service.holder.live.digest} on http://{host}:{port} (Ctrl-C stops)")
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning", access_log=access_log)
    except EscalatorError as exc:  # pragma: no cover - reported like any bad input
        err(str(exc))
        raise typer.Exit(2) from None
    finally:
        if decision_log is not None:
            decision_log.close()

def _token(path: Path) -> str:
    from escalator.cli._console import err
    from escalator.errors import EscalatorError, Problem

    try:
        token = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise EscalatorError(Problem(f"cannot read the token file: {exc}", path=str(path))) from None
    if len(token) < 16:
        raise EscalatorError(Problem("the token must be at least 16 characters", path=str(path)))
    if path.stat().st_mode & 0o077:
        err(f"warning: {path} is readable by other users")
    return token

def register(app: typer.Typer) -> None:
    app.command("serve", help=HELP, short_help="Serve decisions over HTTP (with a decision log).")(serve)
