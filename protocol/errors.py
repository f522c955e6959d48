"""The error catalog of PROTOCOL.md: every refusal a client can receive, with its status and text."""

from __future__ import annotations


class ApiError(Exception):
    """A refusal sent back to the client as `{"error": {"status", "message"}}`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    def as_dict(self) -> dict[str, object]:
        return {"status": self.status, "message": self.message}

    def __repr__(self) -> str:
        return f"ApiError({self.status}, {self.message!r})"


def unauthorized() -> ApiError:
    return ApiError(401, "Unauthorized.")


def forbidden() -> ApiError:
    return ApiError(403, "Forbidden.")


def bad_request() -> ApiError:
    return ApiError(400, "Bad request - invalid data format")


def route_not_found() -> ApiError:
    return ApiError(404, "Route not found")


def validation(message: str) -> ApiError:
    return ApiError(422, message)


def too_many_requests() -> ApiError:
    return ApiError(429, "Too many requests.")


class RetryLater(ApiError):
    """A refusal that says when to try again: `retry_after` seconds, in the error body (and in the
    `Retry-After` header over HTTP)."""

    def __init__(self, status: int, message: str, retry_after: int) -> None:
        super().__init__(status, message)
        self.retry_after = retry_after

    def as_dict(self) -> dict[str, object]:
        return {**super().as_dict(), "retry_after": self.retry_after}


def too_many_logins(retry_after: int) -> ApiError:
    """Failed logins over LOGIN_RATE_LIMIT_PER_MINUTE for a login or an address."""
    return RetryLater(429, "Too many requests.", retry_after)


LOGIN_EXISTS = (422, "The provided data is already associated with an existing user account.")
WRONG_CREDENTIALS = (401, "Incorrect username or password.")
WRONG_CURRENT_PASSWORD = (401, "The current password you entered is incorrect.")
TOKEN_INCORRECT = (422, "Incorrect token.")
TOKEN_EXPIRED = (422, "The token has expired.")
DEVICE_ID_MISSING = (422, "'device_id' is required.")
USER_NOT_FOUND = (422, "We couldn't find the specified user.")
CONVERSATION_NOT_FOUND = (404, "Conversation not found.")
PARTICIPANT_NOT_FOUND = (404, "ConversationParticipant not found.")
PARTICIPANTS_MISSING = (422, "Participants not provided.")
TOO_MANY_IN_PRIVATE = (422, "There are too many users in the private conversation.")
PARTICIPANT_LIMIT = (422, "You've reached the maximum participant limit.")
CONVERSATION_TYPE_MISSING = (422, "Conversation type missed.")
CONVERSATION_TYPE_WRONG = (422, "The type you entered is incorrect.")
MESSAGE_EMPTY = (422, "Either message body or attachments required.")
REPLIED_MESSAGE_UNKNOWN = (422, "Incorrect replied message ID.")
MESSAGE_NOT_FOUND = (422, "Message ID not found.")
BLOCKED_BY_RECIPIENT = (422, "Communication is not possible - you are in a block list of the recipient.")
CONTACT_NAME_MISSING = (422, "'first_name' or 'last_name' is missed.")
CONTACT_EMAIL_PHONE_MISSING = (422, "Email or phone is missed.")
CONTACT_NOT_FOUND = (422, "Contact not found.")
FILE_NAME_WRONG = (422, "Incorrect file name.")
FILE_SIZE_WRONG = (422, "Incorrect file size.")
FILE_CONTENT_TYPE_WRONG = (422, "Incorrect content type.")
FILE_IDS_EXCEEDED = (422, "File IDs for get download url exceeded.")
PUSH_PLATFORM_WRONG = (422, "Incorrect platform type.")
PUSH_DEVICE_WRONG = (422, "Incorrect device id.")
ORGANIZATION_NOT_FOUND = (404, "Organization not found")
# Every refused sign-up alike: unknown organization, closed, invite-only without a valid token.
REGISTRATION_CLOSED = (403, "Registration is closed.")
SERVER_BUSY = (503, "Server busy, try again later.")  # the queue of password hashes is full


def error(entry: tuple[int, str]) -> ApiError:
    """Builds the ApiError for a catalog entry: `raise error(CONVERSATION_NOT_FOUND)`."""
    return ApiError(*entry)
