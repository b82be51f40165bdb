"""X-Twilio-Signature as Twilio documents it, checked against Twilio's own validator."""

from twilio.request_validator import RequestValidator

from shared.signatures import is_valid_twilio_signature, json_body_url, twilio_signature


class MultiDict(dict):
    """The request-params shape Twilio's validator reads repeated keys from (`getall`)."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        super().__init__(pairs)
        self._pairs = pairs

    def getall(self, key: str) -> list[str]:
        return [value for name, value in self._pairs if name == key]


URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
PARAMS = {"CallSid": "CA1234567890ABCDE", "Caller": "+12349013030", "Digits": "1234",
          "From": "+12349013030", "To": "+18005551212"}


def test_documented_vector() -> None:
    assert twilio_signature(URL, PARAMS.items(), "12345") == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


def test_twilio_validator_accepts_parley_signatures_with_repeated_keys() -> None:
    params = [("WebhookFilters", "onMessageAdded"), ("Body", "héllo & bye"), ("WebhookFilters", "onConversationAdded")]
    signature = twilio_signature("http://127.0.0.1:9000/hook", params, "secret-token-123")
    validator = RequestValidator("secret-token-123")
    multi = MultiDict(params)
    assert validator.validate("http://127.0.0.1:9000/hook", multi, signature)


def test_json_body_variant_is_accepted_by_twilio_validator() -> None:
    body = b'{"event": "task.created"}'
    url = json_body_url("https://hooks.example.com/events?x=1", body)
    signature = twilio_signature(url, [], "tok")
    assert RequestValidator("tok").validate(url, body.decode(), signature)


def test_default_port_in_either_form_is_accepted() -> None:
    signature = twilio_signature("https://example.com/in", [("A", "1")], "tok")
    assert is_valid_twilio_signature("https://example.com:443/in", [("A", "1")], "tok", signature)
    assert not is_valid_twilio_signature("https://example.com/in", [("A", "2")], "tok", signature)
    assert not is_valid_twilio_signature("https://example.com/in", [("A", "1")], "tok", None)
