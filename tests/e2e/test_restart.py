"""The embedded store keeps everything across a restart with the same DATA_DIR."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import make_settings, start_server


async def test_users_conversations_and_messages_survive_a_restart(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data")
    app, info = await start_server(settings)
    try:
        alice = await info.user("alice")
        bob = await info.user("bob")
        assert bob.user is not None
        chat = await alice.request("conversation_create", {"type": "u", "participants": [bob.user["_id"]]})
        cid = chat["conversation"]["_id"]
        await alice.send({"message": {"id": "m1", "cid": cid, "body": "before the restart"}})
        ask = await alice.event("ask", mid="m1")
        for client in info.clients:
            await client.close()
    finally:
        await app.stop()

    app, info = await start_server(settings)
    try:
        bob = await info.login("bob")
        listed = (await bob.request("conversation_list"))["conversations"]
        assert [c["_id"] for c in listed] == [cid]
        assert listed[0]["unread_messages_count"] == 1
        assert listed[0]["last_message"]["_id"] == ask["server_mid"]
        messages = (await bob.request("message_list", {"cid": cid}))["messages"]
        expected = [(ask["server_mid"], "before the restart", ask["t"])]
        assert [(m["_id"], m["body"], m["t"]) for m in messages] == expected
        # the conversation goes on where it stopped
        await bob.send({"message": {"id": "m2", "cid": cid, "body": "after"}})
        await bob.event("ask", mid="m2")
        alice = await info.login("alice")
        assert [m["body"] for m in (await alice.request("message_list", {"cid": cid}))["messages"]] == [
            "after", "before the restart"]
    finally:
        for client in info.clients:
            await client.close()
        await app.stop()
