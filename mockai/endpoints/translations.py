"""POST /v1/audio/translations: an upload transcribed into English (whisper-1 only, `task: translate`).

Everything but the accepted fields and the task is shared with transcriptions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mockai.call import Ctx
from mockai.endpoints.contract import Endpoint
from mockai.endpoints.transcriptions import TranscriptionPlan, prepare_task, render


def prepare(
    body: dict[str, Any], ctx: Ctx, api_key: str | None, headers: Mapping[str, str]
) -> TranscriptionPlan:
    return prepare_task("translations", body, ctx, api_key, headers)


ENDPOINT = Endpoint("translations", prepare, render, form=True)
