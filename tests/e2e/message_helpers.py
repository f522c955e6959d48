"""Reading messages back in the message tests (sending them: tests/chat_helpers.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tests.client import ChatClient


async def listing(client: ChatClient, cid: str, **params: Any) -> list[dict[str, Any]]:
    return list((await client.request("message_list", {"cid": cid, **params}))["messages"])


def ms(iso_time: str) -> int:
    return int(datetime.fromisoformat(iso_time.replace("Z", "+00:00")).timestamp() * 1000)
