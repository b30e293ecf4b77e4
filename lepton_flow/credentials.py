"""Object store keys from a Prefect Secret block, for workers that must not hold them in their environment.

The block's value is a JSON object: `aws_access_key_id`,
`aws_secret_access_key` and optionally `aws_session_token`. Create it once:

    from prefect.blocks.system import Secret
    Secret(value={"aws_access_key_id": "...", "aws_secret_access_key": "..."}).save("lepton-s3")

and set `LEPTON_S3_SECRET_BLOCK=lepton-s3` on the workers. Errors name the
block and what is wrong with it, never a value.
"""

from __future__ import annotations

import json
import logging
import os

KEYS = {"aws_access_key_id": "AWS_ACCESS_KEY_ID", "aws_secret_access_key": "AWS_SECRET_ACCESS_KEY", "aws_session_token": "AWS_SESSION_TOKEN"}
log = logging.getLogger("lepton_flow.credentials")


class CredentialsError(RuntimeError):
    pass


def keys_from_secret_block(name: str) -> None:
    """Put the keys of Secret block `name` into this process's environment; a warning naming the block (never a value) if that fails."""
    try:
        from prefect.blocks.system import Secret

        value = Secret.load(name).get()
    except Exception as exc:  # unreachable API, no such block: say so, the S3 calls will then fail on their own
        log.warning("lepton-flow: cannot read the Prefect Secret block %r named by LEPTON_S3_SECRET_BLOCK (%s)", name, type(exc).__name__)
        return
    try:
        os.environ.update(parse_keys(name, value))
    except CredentialsError as exc:  # at import: a warning, not a traceback in every command
        log.warning("lepton-flow: %s", exc)


def parse_keys(name: str, value) -> dict[str, str]:
    """The AWS_* variables from a Secret block's value; `CredentialsError` naming the block and the missing field."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise CredentialsError(f"Secret block {name!r}: its value is not a JSON object") from None
    if not isinstance(value, dict):
        raise CredentialsError(f"Secret block {name!r}: its value is not a JSON object")
    missing = [k for k in ("aws_access_key_id", "aws_secret_access_key") if not value.get(k)]
    if missing:
        raise CredentialsError(f"Secret block {name!r}: missing {', '.join(missing)}")
    return {env: str(value[k]) for k, env in KEYS.items() if value.get(k)}
