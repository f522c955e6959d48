from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from schemas.documents import Message


@dataclass(frozen=True)
class SendReceipt:
    """What the first send of a client id was answered with: the stored message's id and `t`."""

    mid: str
    t: int


@dataclass(frozen=True)
class OnceAppended:
    """The result of `append_once`: the receipt every send of the key gets, and the message when
    this call is the one that stored it (None for a resend: nothing was stored or changed)."""

    receipt: SendReceipt
    stored: Message | None


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
    async def append_once(self, message: Message, client_id: str, expires_at: int) -> OnceAppended:
        """`append`, at most once per idempotency key (message.organization_id, message.from_id,
        message.cid, client_id) while the key's record lives; "now" is `message.created_at`.

        A live record (its expiry, unix ms, after now) makes the call a resend: nothing is stored
        or changed, and the result carries the recorded receipt and `stored=None`, whatever the
        resend's content and even when that message has been deleted since. Otherwise the message
        is appended as `append` does, the key is recorded with the message's id, `t` and
        `expires_at` (replacing an expired record), and the result carries it as `stored`.

        Concurrent calls with one key, on any node, store one message: exactly one of them gets
        `stored`, all get the same receipt. A crash part-way never leaves a record that answers
        for a message that was never stored: either both are written in one transaction, or a
        record whose message is missing makes the next send of the key store its message under
        the recorded id and `t`. Expired records are pruned by the store (bounded work per call
        or a TTL index); an expired record still present is treated as absent."""

    @abstractmethod
    async def earlier_send(
        self, organization_id: str, sender_id: str, cid: str, client_id: str, now: int
    ) -> SendReceipt | None:
        """The receipt of the key's live record (expiry after `now`, unix ms) whose message was
        stored, or None. A read only: `append_once` stays the atomic decision."""

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
