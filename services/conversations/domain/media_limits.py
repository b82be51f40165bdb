"""How much an upload may weigh and how often an identity may upload: the media quota of an account and the
upload rate of a token holder (a web-chat guest needs no credentials, so its files are what to bound)."""

from shared.errors import TwilioError, invalid_parameter

UPLOAD_RATE_WINDOW_SECONDS = 60.0


def too_large(limit: int) -> TwilioError:
    return invalid_parameter(f"Media is larger than the {limit} bytes allowed", code=50512)


def quota_used_up(quota: int) -> TwilioError:
    return TwilioError(403, 20403, f"The account's media quota of {quota} bytes is used up")


def uploading_too_often(per_minute: int) -> TwilioError:
    return TwilioError(429, 20429, f"At most {per_minute} uploads a minute: retry later",
                       headers={"Retry-After": str(int(UPLOAD_RATE_WINDOW_SECONDS))})


def upload_limit(*, max_bytes: int, quota: int, used: int) -> tuple[int, TwilioError]:
    """The most an upload may carry now, and the refusal to give when it carries more. A quota of 0 is none."""
    if quota <= 0 or quota - used >= max_bytes:
        return max_bytes, too_large(max_bytes)
    if used >= quota:
        raise quota_used_up(quota)
    return quota - used, quota_used_up(quota)


def fits(*, quota: int, used: int, size: int) -> bool:
    return quota <= 0 or used + size <= quota
