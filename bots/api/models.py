"""The request and response bodies of the API as pydantic models: the same classes check
each request and write the schemas of ``/openapi.json`` (OpenAPI 3.1 / JSON Schema 2020-12).

Request bodies (``Body``) are strict: unknown fields are refused and JSON types are taken
as written (``"5"`` is no integer), so that what the document promises is what is checked."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal, Self, TypeVar, Union

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

MAX_ID = 2**53 - 1
T = TypeVar("T")
# An optional field that may be left out but not sent as null (the schema says so too).
Maybe = Union[T, SkipJsonSchema[None]]  # noqa: UP007 (a generic alias needs Union)


def _schema_without_defaults(schema: dict[str, Any]) -> None:
    # A default of None on a non-nullable field would read as an example of a bad value.
    for prop in schema.get("properties", {}).values():
        prop.pop("default", None)


class Body(BaseModel):
    """A request body: exactly the declared fields, with their JSON types, finite numbers."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        allow_inf_nan=False,
        frozen=True,
        json_schema_extra=_schema_without_defaults,
    )
    nullable: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def _no_null(self) -> Self:
        for name in self.model_fields_set:
            if getattr(self, name) is None and name not in self.nullable:
                raise ValueError(f"{name}: may not be null")
        return self


class Answer(BaseModel):
    """A response body: the declared fields and nothing else."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _change_schema(schema: dict[str, Any]) -> None:
    _schema_without_defaults(schema)
    schema["minProperties"] = 1


class NotEmpty(Body):
    """A change: at least one field must be given."""

    model_config = ConfigDict(json_schema_extra=_change_schema)

    @model_validator(mode="after")
    def _some_field(self) -> Self:
        if not self.model_fields_set:
            raise ValueError("at least one field")
        return self


def string(max_length: int = 200, min_length: int = 0) -> Any:
    """A string type with length limits, for query, path and header parameters."""
    return Annotated[str, Field(min_length=min_length, max_length=max_length)]


def integer(minimum: int, maximum: int) -> Any:
    """An integer type with limits, for query parameters."""
    return Annotated[int, Field(ge=minimum, le=maximum)]


def _whole_number(value: object) -> object:
    # JSON Schema counts 1.0 as an integer; strict pydantic would not.
    return int(value) if isinstance(value, float) and value.is_integer() else value


WHOLE = BeforeValidator(_whole_number)  # after any Field(...) limits, for the schema
Integer = Annotated[int, WHOLE]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Credits = Annotated[str, Field(description="credits, two decimals for people")]
Time = Annotated[str, Field(json_schema_extra={"format": "date-time"})]
Username = Annotated[
    str, Field(min_length=3, max_length=32, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{2,31}$")
]
Password = Annotated[str, Field(min_length=8, max_length=256)]
RoleName = Literal["guest", "user", "admin"]
ID = Id  # a parameter's type, e.g. Param("id", ID)
OutcomeName = Literal["ok", "stopped", "cut"]


class Usage(Answer):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ErrorDetail(Answer):
    code: Annotated[str, Field(max_length=64)]
    message: Annotated[str, Field(max_length=2000)]


class Error(Answer):
    error: ErrorDetail


# --- accounts -------------------------------------------------------------------------


class Credentials(Body):
    username: Username
    password: Password


class Registration(Credentials):
    # An invitation code (/invite): needed when the bot is closed (ACCESS=closed).
    invite: Maybe[Annotated[str, Field(min_length=1, max_length=32)]] = None


class AccessRule(Body):
    """``subject``: a person (``telegram:123``), ``#42``, a chat, server, workspace or
    Discord role (README, "Running it for a community")."""

    subject: Annotated[str, Field(min_length=1, max_length=200)]
    verdict: Literal["allow", "block"]


class AccessRuleView(Answer):
    subject: str
    verdict: str


class AccessState(Answer):
    mode: str
    rules: list[AccessRuleView]


class AccessMode(Body):
    mode: Literal["open", "closed"]


class InviteRequest(Body):
    uses: Annotated[int, Field(ge=1, le=10_000), WHOLE] = 1


class Invite(Answer):
    code: str
    uses: int


class BroadcastRequest(Body):
    text: Annotated[str, Field(min_length=1, max_length=3500)]
    audience: Maybe[Literal["guest", "user", "admin", "telegram", "discord", "slack"]] = None


class BroadcastDraft(Answer):
    id: int
    text: str
    audience: str  # "" = everyone
    people: int


class BroadcastStatus(Answer):
    id: int
    state: Literal["draft", "sending", "done"]
    deliveries: dict[str, int]  # pending, delivered, failed, blocked


class AnnouncementsChoice(Body):
    muted: bool


class RefreshRequest(Body):
    refresh_token: Annotated[str, Field(min_length=1, max_length=4096)]


class Tokens(Answer):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class User(Answer):
    id: Id
    username: Annotated[str, Field(max_length=32)] | None
    role: RoleName
    banned: bool
    balance: Credits
    balance_micro: int
    language: Annotated[str, Field(max_length=16)] | None
    chat_model: Annotated[str, Field(max_length=200)] | None
    identities: list[Annotated[str, Field(max_length=500)]]
    created_at: Time


class UserList(Answer):
    items: list[User]
    total: int
    offset: int
    limit: int


class ProfileChange(NotEmpty):
    nullable: ClassVar[frozenset[str]] = frozenset({"language"})  # null: "detect it"
    username: Maybe[Username] = None
    password: Maybe[Password] = None
    current_password: Maybe[Annotated[str, Field(max_length=256)]] = None
    language: Annotated[str, Field(min_length=1, max_length=16)] | None = None


class AdminUserChange(NotEmpty):
    role: Maybe[RoleName] = None
    banned: Maybe[bool] = None


# --- credits and keys -----------------------------------------------------------------


AmountText = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^-?[0-9]+(\.[0-9]+)?$")]
AmountNumber = Annotated[float, Field(ge=-1e9, le=1e9)]


class Grant(Body):
    amount: AmountText | AmountNumber = Field(description="credits: a decimal string or number")
    reason: Maybe[Annotated[str, Field(max_length=500)]] = None

    def amount_text(self) -> str:
        """The amount as the decimal it was written as: a JSON number goes through its
        shortest text (0.1 is "0.1", never 0.1000000000000000055...), so a number and the
        same string grant the same amount."""
        if isinstance(self.amount, str):
            return self.amount
        return format(Decimal(str(self.amount)), "f")


class GrantResult(Answer):
    account_id: Id
    amount_micro: int
    balance: Credits
    balance_micro: int
    reason: Annotated[str, Field(max_length=500)] | None
    replayed: bool
    created_at: Time


class LedgerRow(Answer):
    amount_micro: int
    kind: Annotated[str, Field(max_length=16)]
    request_id: str | None
    actor_account_id: Id | None
    reason: str | None
    created_at: Time | None


class UsageLine(Answer):
    feature: Annotated[str, Field(max_length=16)]
    model: Annotated[str, Field(max_length=200)]
    requests: int
    credits: Credits
    credits_micro: int


class UsageWindow(Answer):
    since: Time
    requests: int
    credits: Credits
    credits_micro: int
    lines: list[UsageLine]


class UsageDay(Answer):
    day: Annotated[str, Field(description="YYYY-MM-DD (UTC)")]
    requests: int
    credits_micro: int


class NextAllowance(Answer):
    period: Literal["daily", "weekly", "monthly"]
    mode: Literal["topup", "add"]
    amount: Credits
    amount_micro: int
    at: Time


class OwnUsage(Answer):
    balance: Credits
    balance_micro: int
    today: UsageWindow
    week: UsageWindow
    month: UsageWindow
    next_allowance: NextAllowance | None
    days: list[UsageDay] = Field(description="the last 30 days, days without use left out")


class LedgerList(Answer):
    items: list[LedgerRow]


KeyBudget = Annotated[
    int, Field(ge=0, le=2**62, description="the key's lifetime budget, in micro-credits"), WHOLE
]
KeyExpiry = Annotated[
    AwareDatetime, Field(description="when the key stops working (RFC 3339, with offset)")
]
KeyModels = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=200)]],
    Field(min_length=1, max_length=100, description="model keys (GET /models) it may use"),
]
KeyRate = Annotated[
    int, Field(ge=1, le=1_000_000, description="its own requests per minute"), WHOLE
]


class ApiKeyCreate(Body):
    """A new key; every limit is optional (left out: no limit of that kind)."""

    name: Maybe[Annotated[str, Field(max_length=100)]] = None
    budget_micro: Maybe[KeyBudget] = None
    expires_at: Maybe[KeyExpiry] = None
    models: Maybe[KeyModels] = None
    requests_per_minute: Maybe[KeyRate] = None


class ApiKeyChange(NotEmpty):
    """The limits to change; null removes that limit, a field left out stays as it is."""

    nullable: ClassVar[frozenset[str]] = frozenset(
        {"budget_micro", "expires_at", "models", "requests_per_minute"}
    )
    budget_micro: KeyBudget | None = None
    expires_at: KeyExpiry | None = None
    models: KeyModels | None = None
    requests_per_minute: KeyRate | None = None


class ApiKey(Answer):
    id: Id
    prefix: Annotated[str, Field(max_length=16)]
    name: str | None
    created_at: Time
    budget_micro: int | None = Field(description="null: no budget")
    spent_micro: int = Field(description="settled charges plus what open requests hold")
    remaining_micro: int | None = Field(description="budget minus spent; null: no budget")
    expires_at: Time | None
    expired: bool
    models: list[str] | None = Field(description="null: any model the account may use")
    requests_per_minute: int | None
    requests: int = Field(description="settled requests made with the key")
    last_used_at: Time | None
    key: Annotated[
        str | None,
        Field(description="only in the answer to POST /api-keys", exclude_if=lambda v: v is None),
    ] = None


class ApiKeyList(Answer):
    items: list[ApiKey]


class Health(Answer):
    status: Literal["ok", "degraded"]
    database: Literal["ok", "unavailable"]
    redis: Literal["ok", "degraded", "off"]
