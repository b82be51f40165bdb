"""Access tokens are cut out of log records, whatever carries them, and the records keep their shape."""

import logging

import jwt

from shared.logs import REDACTED, JsonFormatter, RedactTokens, redact

TOKEN = jwt.encode({"iss": "SK" + "0" * 32, "grants": {"identity": "ada"}}, "s" * 32, algorithm="HS256")


def record(msg: str, args: tuple[object, ...] | None = None, **extra: object) -> logging.LogRecord:
    made = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, msg, args, None)
    for key, value in extra.items():
        setattr(made, key, value)
    return made


def test_a_token_in_an_access_log_line_is_redacted_and_the_arguments_keep_their_positions() -> None:
    # uvicorn's access formatter reads these five arguments by position.
    line = record('%s - "%s %s HTTP/%s" %d', ("127.0.0.1:5000", "GET", f"/ingress/ws?resume_from=3&token={TOKEN}",
                                               "1.1", 403))
    assert RedactTokens().filter(line)
    assert line.args == ("127.0.0.1:5000", "GET", f"/ingress/ws?resume_from=3&token={REDACTED}", "1.1", 403)
    assert TOKEN not in line.getMessage()


def test_a_token_anywhere_in_a_message_or_an_extra_field_is_redacted() -> None:
    line = record(f"refreshed {TOKEN} for ada", None, url=f"https://example.com/cb?access_token={TOKEN}&x=1")
    RedactTokens().filter(line)
    formatted = JsonFormatter().format(line)
    assert TOKEN not in formatted
    assert f"refreshed {REDACTED} for ada" in formatted and f"access_token={REDACTED}&x=1" in formatted


def test_text_without_tokens_is_left_alone() -> None:
    text = "GET /conversations/v1/Conversations?PageSize=50&Page=1 CH0123 token bucket empty"
    assert redact(text) == text
