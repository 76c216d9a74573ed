"""OpenAI's error envelope, and the exact error texts the real API sends.

`OpenAIError` is raised anywhere on a request's way through the server; the app turns it into
`{"error": {"message", "type", "param", "code"}}` with its status and headers. Each helper below
builds one error the real API is known to send, with its verbatim message (see
shared/reference/openai-wire.md section 8).
"""

from __future__ import annotations

import hashlib
import string
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from mockai.secrets import mask_key


class MockAIError(Exception):
    """Base class of the errors mockai raises to its users (not over HTTP)."""


class UsageError(MockAIError, ValueError):
    """mockai was called or configured the wrong way; the message says how to fix it."""


class OpenAIError(Exception):
    """An error answered over HTTP in OpenAI's envelope."""

    def __init__(
        self,
        status: int,
        message: str,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}

    def __repr__(self) -> str:
        fields = f"type={self.type!r}, param={self.param!r}, code={self.code!r}"
        return f"OpenAIError({self.status}, {self.message!r}, {fields})"


HELP = "help.openai.com"

BAD_JSON = (
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your "
    "HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. "
    "If you have trouble figuring out how to fix this, please contact us through our help center at "
    "help.openai.com.)"
)


def bad_json() -> OpenAIError:
    return OpenAIError(400, BAD_JSON)


def invalid_url(method: str, path: str) -> OpenAIError:
    return OpenAIError(404, f"Invalid URL ({method} {path})")


def method_not_allowed(method: str, path: str, allowed: Iterable[str] = ()) -> OpenAIError:
    """The 405, with the `Allow` header HTTP requires on one (HEAD goes wherever GET does)."""
    # Status [UNVERIFIED]: the real text is known, its status is not; 405 is what HTTP says it is.
    methods = set(allowed)
    if "GET" in methods:
        methods.add("HEAD")
    return OpenAIError(
        405,
        f"Not allowed to {method} on {path}. (HINT: Perhaps you meant to use a different HTTP method?)",
        headers={"allow": ", ".join(sorted(methods))} if methods else None,
    )


def unrecognized_argument(name: str) -> OpenAIError:
    return OpenAIError(400, f"Unrecognized request argument supplied: {name}", param=name)


def missing_parameter(name: str) -> OpenAIError:
    if name == "model":
        return OpenAIError(400, "you must provide a model parameter")
    return OpenAIError(
        400, f"Missing required parameter: '{name}'.", param=name, code="missing_required_parameter"
    )


def invalid_type(param: str, expected: str, got: Any) -> OpenAIError:
    return OpenAIError(
        400,
        f"Invalid type for '{param}': expected {expected}, but got {describe_type(got)} instead.",
        param=param,
        code="invalid_type",
    )


MAX_STRING = 10_485_760
"""The longest string the live API takes in one message content or input text (characters)."""


def string_too_long(param: str, got: int, limit: int = MAX_STRING) -> OpenAIError:
    """The live API's 400 for a string past its maximum length, as users pasted it (roast#52)."""
    return OpenAIError(
        400,
        f"Invalid '{param}': string too long. Expected a string with maximum length {limit}, but got a "
        f"string with length {got} instead.",
        param=param,
        code="string_above_max_length",
    )


def invalid_value(param: str, message: str) -> OpenAIError:
    return OpenAIError(400, message, param=param, code="invalid_value")


def unsupported_parameter(name: str, instead: str | None = None) -> OpenAIError:
    """A parameter the model does not take (reasoning models: `max_tokens`, penalties, `logprobs`)."""
    hint = f" Use '{instead}' instead." if instead else ""
    return OpenAIError(
        400,
        f"Unsupported parameter: '{name}' is not supported with this model.{hint}",
        param=name,
        code="unsupported_parameter",
    )


def unsupported_default_only(name: str, value: Any, default: Any) -> OpenAIError:
    """A sampling value a reasoning model refuses: only the default is accepted."""
    return OpenAIError(
        400,
        f"Unsupported value: '{name}' does not support {number_text(value)} with this model. "
        f"Only the default ({number_text(default)}) value is supported.",
        param=name,
        code="unsupported_value",
    )


def unsupported_role(index: int, role: str) -> OpenAIError:
    """A role the model refuses (o1-mini, o1-preview: system and developer)."""
    param = f"messages[{index}].role"
    return OpenAIError(
        400,
        f"Unsupported value: '{param}' does not support '{role}' with this model.",
        param=param,
        code="unsupported_value",
    )


def number_text(value: Any) -> str:
    """A JSON number as the API's texts print it: `0` for 0 and 0.0 ([UNVERIFIED] for 0.0), `0.5`."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def describe_type(value: Any) -> str:
    """OpenAI's wording for a JSON value's type in `invalid_type` messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def model_not_found(model: str) -> OpenAIError:
    return OpenAIError(
        404, f"The model `{model}` does not exist or you do not have access to it.", code="model_not_found"
    )


def model_deprecated(model: str) -> OpenAIError:
    return OpenAIError(
        404,
        f"The model `{model}` has been deprecated, learn more here: "
        "https://platform.openai.com/docs/deprecations",
        code="model_not_found",
    )


def not_a_chat_model() -> OpenAIError:
    return OpenAIError(
        404,
        "This is not a chat model and thus not supported in the v1/chat/completions endpoint. "
        "Did you mean to use v1/completions?",
        param="model",
    )


def chat_model_on_completions() -> OpenAIError:
    return OpenAIError(
        404,
        "This is a chat model and not supported in the v1/completions endpoint. "
        "Did you mean to use v1/chat/completions?",
        param="model",
    )


def server_error(request_id: str) -> OpenAIError:
    return OpenAIError(
        500,
        "The server had an error processing your request. Sorry about that! You can retry your request, or "
        "contact us through our help center at help.openai.com if you keep seeing this error. "
        f"(Please include the request ID {request_id} in your email.)",
        type="server_error",
    )


def bad_gateway() -> OpenAIError:
    # [UNVERIFIED] OpenAI's 502 comes from Cloudflare as HTML; SDKs only read the status. We keep the
    # envelope.
    return OpenAIError(502, "Bad gateway.", type="server_error", code="bad_gateway")


def overloaded(request_id: str) -> OpenAIError:
    return OpenAIError(
        503,
        "That model is currently overloaded with other requests. You can retry your request, or contact us "
        "through our help center at help.openai.com if the error persists. "
        f"(Please include the request ID {request_id} in your message.)",
        type="server_error",
    )


def insufficient_quota() -> OpenAIError:
    return OpenAIError(
        429,
        "You exceeded your current quota, please check your plan and billing details. For more information "
        "on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.",
        type="insufficient_quota",
        code="insufficient_quota",
    )


def payload_too_large(limit: int, got: int) -> OpenAIError:
    return OpenAIError(
        413, f"Maximum content size limit ({limit}) exceeded ({got} bytes read)", type="server_error"
    )


def incorrect_api_key(key: str) -> OpenAIError:
    return OpenAIError(
        401,
        f"Incorrect API key provided: {mask_key(key)}. You can find your API key at "
        "https://platform.openai.com/account/api-keys.",
        code="invalid_api_key",
        headers={"www-authenticate": 'Bearer realm="OpenAI API"'},
    )


def missing_api_key() -> OpenAIError:
    return OpenAIError(
        401,
        "You didn't provide an API key. You need to provide your API key in an Authorization header using "
        "Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) "
        "if "
        "you're accessing the API from your browser and are prompted for a username and password. You can "
        "obtain an API key from https://platform.openai.com/account/api-keys.",
        headers={"www-authenticate": 'Bearer realm="OpenAI API"'},
    )


def rate_limit_reached(
    model: str,
    org: str,
    kind: str,
    limit: int,
    used: int,
    requested: int,
    wait: str,
    headers: Mapping[str, str],
) -> OpenAIError:
    """429 for an empty RPM (`kind="requests"`) or TPM (`kind="tokens"`) bucket, in OpenAI's 2024+ words."""
    per = "requests per min (RPM)" if kind == "requests" else "tokens per min (TPM)"
    return OpenAIError(
        429,
        f"Rate limit reached for {model} in organization {org} on {per}: Limit {limit}, Used {used}, "
        f"Requested {requested}. Please try again in {wait}. "
        "Visit https://platform.openai.com/account/rate-limits to learn more.",
        type=kind,
        code="rate_limit_exceeded",
        headers=headers,
    )


def request_too_large(
    model: str, org: str, limit: int, requested: int, headers: Mapping[str, str]
) -> OpenAIError:
    """429 for one request whose token estimate exceeds the whole TPM limit, so waiting cannot help."""
    return OpenAIError(
        429,
        f"Request too large for {model} in organization {org} on tokens per min (TPM): Limit {limit}, "
        f"Requested {requested}. The input or output tokens must be reduced in order to run successfully. "
        "Visit https://platform.openai.com/account/rate-limits to learn more.",
        type="tokens",
        code="rate_limit_exceeded",
        headers=headers,
    )


def for_status(
    status: int, request_id: str, model: str = "", api_key: str | None = None, kind: str | None = None
) -> OpenAIError:
    """OpenAI's standard error for a bare status code (a scripted `error: {status: N}`); `kind` is the
    scripted type or code, so `{status: 429, type: insufficient_quota}` gets the out-of-credit text."""
    if status == 429 and kind == "insufficient_quota":
        return insufficient_quota()
    if status == 401:
        return incorrect_api_key(api_key) if api_key else missing_api_key()
    if status == 404:
        return model_not_found(model) if model else invalid_url("POST", "/v1")
    if status == 429:
        # A scripted 429: the RPM text, and a short retry so tests of retry logic stay fast.
        return OpenAIError(
            429,
            f"Rate limit reached for {model or 'default'} in organization {org_id(api_key)} on "
            "requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 20ms. "
            "Visit https://platform.openai.com/account/rate-limits to learn more.",
            type="requests",
            code="rate_limit_exceeded",
            headers={"retry-after": "1", "retry-after-ms": "20"},
        )
    if status == 500:
        return server_error(request_id)
    if status == 502:
        return bad_gateway()
    if status == 503:
        return overloaded(request_id)
    if status == 504:
        return OpenAIError(
            504, "Gateway timeout.", type="server_error", code="gateway_timeout"
        )  # [UNVERIFIED]
    if status >= 500:
        return OpenAIError(
            status,
            "The server had an error while processing your request. Sorry about that!",
            type="server_error",
        )
    if status == 403:
        # [UNVERIFIED] wording of a 403 for a model the project cannot use.
        return OpenAIError(403, f"Project does not have access to model `{model}`", code="model_not_found")
    import http

    try:
        phrase = http.HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    return OpenAIError(status, f"{phrase}.")


_BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase


def fake_id(prefix: str, salt: str, key: str | None) -> str:
    """A stable fake id: `prefix` + 24 base62 characters hashed from the key (never the key itself)."""
    number = int.from_bytes(hashlib.sha256(f"mockai-{salt}:".encode() + (key or "").encode()).digest(), "big")
    chars = []
    for _ in range(24):
        number, digit = divmod(number, 62)
        chars.append(_BASE62[digit])
    return prefix + "".join(chars)


@lru_cache(maxsize=1024)
def org_id(key: str | None) -> str:
    """The fake `org-...` of the 429 texts for a key; no key -> a fixed one."""
    return fake_id("org-", "org", key)
