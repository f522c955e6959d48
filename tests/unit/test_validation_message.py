"""`validation_message` (server/transport/dispatch.py): pydantic's errors said in wire terms, never with a
Python class or type name."""

from __future__ import annotations

from typing import Any, Literal

import pytest
from pydantic import BaseModel, Field, StrictBool, StrictFloat, StrictInt, StrictStr, ValidationError, field_validator

from server.transport.dispatch import validation_message


class Inner(BaseModel):
    gt: StrictInt | None = Field(default=None, ge=0)


class Sample(BaseModel):
    text: StrictStr | None = Field(default=None, min_length=2, max_length=3)
    count: StrictInt | None = Field(default=None, ge=1, le=9)
    ratio: StrictFloat | None = None
    flag: StrictBool | None = None
    window: Inner | None = None
    meta: dict[str, Any] | None = None
    ids: list[StrictStr] | None = Field(default=None, min_length=1, max_length=2)
    kind: Literal["myself", "all"] | None = None
    lax: int | None = None
    code: StrictStr | None = None

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        raise ValueError("must be a 6-digit code")


class Required(BaseModel):
    name: StrictStr


def message_of(model: type[BaseModel], payload: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(payload)
    return validation_message(caught.value)


@pytest.mark.parametrize(("payload", "expected"), [
    ([1], "Invalid data: Input should be an object."),
    ("text", "Invalid data: Input should be an object."),
    ({"window": 5}, "Invalid 'window': Input should be an object."),
    ({"window": {"gt": "x"}}, "Invalid 'window.gt': Input should be a valid integer."),
    ({"window": {"gt": -1}}, "Invalid 'window.gt': Input should be greater than or equal to 0."),
    ({"meta": []}, "Invalid 'meta': Input should be an object."),
    ({"ids": "a"}, "Invalid 'ids': Input should be an array."),
    ({"ids": []}, "Invalid 'ids': Array should have at least 1 item, not 0."),
    ({"ids": ["a", "b", "c"]}, "Invalid 'ids': Array should have at most 2 items, not 3."),
    ({"ids": [1]}, "Invalid 'ids.0': Input should be a valid string."),
    ({"text": 5}, "Invalid 'text': Input should be a valid string."),
    ({"text": "a"}, "Invalid 'text': String should have at least 2 characters."),
    ({"text": "abcd"}, "Invalid 'text': String should have at most 3 characters."),
    ({"count": "5"}, "Invalid 'count': Input should be a valid integer."),
    ({"count": 0}, "Invalid 'count': Input should be greater than or equal to 1."),
    ({"count": 10}, "Invalid 'count': Input should be less than or equal to 9."),
    ({"lax": 1.5}, "Invalid 'lax': Input should be a valid integer, got a number with a fractional part."),
    ({"lax": "x"}, "Invalid 'lax': Input should be a valid integer."),
    ({"ratio": "x"}, "Invalid 'ratio': Input should be a number."),
    ({"flag": 1}, "Invalid 'flag': Input should be true or false."),
    ({"kind": "some"}, "Invalid 'kind': Input should be 'myself' or 'all'."),
    ({"code": "x"}, "Invalid 'code': must be a 6-digit code."),
])
def test_each_error_type_is_said_in_json_terms(payload: Any, expected: str) -> None:
    assert message_of(Sample, payload) == expected


def test_a_missing_field_keeps_its_catalog_wording() -> None:
    assert message_of(Required, {}) == "'name' is required."


def test_a_dictionary_size_is_said_as_an_object() -> None:
    class Sized(BaseModel):
        meta: dict[str, int] = Field(max_length=1)

    assert message_of(Sized, {"meta": {"a": 1, "b": 2}}) == \
        "Invalid 'meta': Object should have at most 1 item."


def test_an_error_type_without_wording_gets_a_neutral_sentence() -> None:
    class Odd(BaseModel):
        stamp: StrictStr = Field(pattern=r"^\d+$")

    assert message_of(Odd, {"stamp": "x"}) == "Invalid 'stamp': String should match pattern '^\\d+$'."

    class Complex(BaseModel):
        value: complex | None = None

    message = message_of(Complex, {"value": []})
    assert message.startswith("Invalid 'value': ") and "complex" not in message


def test_union_branch_names_are_not_part_of_the_location() -> None:
    class Either(BaseModel):
        value: StrictInt | list[StrictInt]

    message = message_of(Either, {"value": "x"})
    assert message.startswith("Invalid 'value': "), message
    assert "list[" not in message and "'value.int'" not in message
