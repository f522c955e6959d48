from __future__ import annotations

from abc import ABC, abstractmethod

from schemas.documents import Message


class MessageRepository(ABC):
    """Messages, their per-user read marks and per-user hiding ("delete for myself")."""

    @abstractmethod
    async def append(self, message: Message) -> Message:
        """Stores a message at the end of its conversation and returns it with its `seq`: the
        conversation's next seq is assigned (the message's own `seq` is ignored), the
        conversation's `updated_at` becomes the message's `created_at` (a new message is
        activity), and concurrent appends each get their own seq. StorageError when the
        conversation does not exist in the message's organization; nothing is stored then."""

    @abstractmethod
    async def get(self, organization_id: str, mid: str) -> Message | None:
        """The message, or None (also for another organization's id)."""

    @abstractmethod
    async def get_many(self, organization_id: str, cid: str, mids: list[str]) -> list[Message]:
        """The messages of that conversation among `mids`."""

    @abstractmethod
    async def page(
        self,
        organization_id: str,
        cid: str,
        viewer_id: str,
        *,
        created_gt: int | None,
        created_lt: int | None,
        ids: list[str] | None,
        limit: int,
    ) -> list[Message]:
        """The newest messages first (by seq), hiding those the viewer deleted for themself,
        filtered on `created_at` (ms) and/or ids."""

    @abstractmethod
    async def last_visible_many(self, organization_id: str, cids: list[str], viewer_id: str) -> dict[str, Message]:
        """cid -> the newest message (by seq) of that conversation that the viewer has not
        hidden, for the given conversations that have one. The number of queries does not grow
        with len(cids) where the store allows it."""

    @abstractmethod
    async def update_body(self, organization_id: str, mid: str, body: str, updated_at: int) -> None:
        """Replaces the body of a message."""

    @abstractmethod
    async def hide_for(self, organization_id: str, cid: str, mids: list[str], user_id: str) -> None:
        """Hides the messages from one user's history (delete "myself")."""

    @abstractmethod
    async def delete(self, organization_id: str, cid: str, mids: list[str]) -> None:
        """Removes the messages for everyone (delete "all"), with their read marks and reactions."""

    @abstractmethod
    async def mark_read(
        self, organization_id: str, cid: str, user_id: str, mids: list[str] | None, upto_seq: int
    ) -> list[Message]:
        """Marks as read by `user_id` the given messages of the conversation, or when `mids` is
        None every message with seq <= `upto_seq`. Only messages of other senders count.
        Returns the messages that were unread before the call (so their senders can be told)."""

    @abstractmethod
    async def unread_counts(self, organization_id: str, cids: list[str], user_id: str) -> dict[str, int]:
        """cid -> how many messages of other senders in that conversation the user has not read:
        above the user's read watermark and not marked read one by one (hidden ones excluded).
        Every asked cid is in the result, with 0 when the user is not a participant. Cost grows
        with the unread tails, not the whole histories; the number of queries does not grow with
        len(cids) where the store allows it."""

    async def unread_count(self, organization_id: str, cid: str, user_id: str) -> int:
        """`unread_counts` of one conversation."""
        return (await self.unread_counts(organization_id, [cid], user_id)).get(cid, 0)

    @abstractmethod
    async def read_by_others(self, organization_id: str, messages: list[Message]) -> set[str]:
        """The ids, among `messages`, that someone other than their sender has read."""
