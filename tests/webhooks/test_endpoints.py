"""Endpoints (the unit of isolation) and the exact URL a delivery is sent and signed as."""

from urllib.parse import parse_qsl, urlsplit

from services.webhooks.domain.endpoints import endpoint_of, request_url


def test_endpoint_is_scheme_host_and_port_with_defaults_filled_in() -> None:
    assert endpoint_of("https://Example.com/hooks?x=1") == "https://example.com:443"
    assert endpoint_of("http://example.com/a") == "http://example.com:80"
    assert endpoint_of("http://127.0.0.1:8080/a") == "http://127.0.0.1:8080"
    assert endpoint_of("http://[::1]:9000/a") == "http://[::1]:9000"


def test_paths_on_one_host_share_an_endpoint_and_ports_do_not() -> None:
    assert endpoint_of("https://a.example/x") == endpoint_of("https://a.example:443/y")
    assert endpoint_of("https://a.example:8443/x") != endpoint_of("https://a.example/x")


def test_post_is_sent_to_the_url_as_configured_without_fragment() -> None:
    params = [("Body", "hi")]
    assert request_url("https://a.example/hook?x=1", method="POST", params=params) == "https://a.example/hook?x=1"
    assert request_url("https://a.example/hook#rc=2", method="POST", params=params) == "https://a.example/hook"


def test_get_appends_params_to_the_query_in_order() -> None:
    params = [("EventType", "onMessageAdded"), ("Body", "a b&c"), ("Media", "1"), ("Media", "2")]
    url = request_url("https://a.example/hook?tenant=7", method="GET", params=params)
    assert url.startswith("https://a.example/hook?tenant=7&")
    assert parse_qsl(urlsplit(url).query) == [("tenant", "7"), *params]
    assert request_url("https://a.example/hook", method="GET", params=[("A", "1")]) == "https://a.example/hook?A=1"
    assert request_url("https://a.example/hook?", method="GET", params=[("A", "1")]) == "https://a.example/hook?A=1"
    assert request_url("https://a.example/hook", method="GET", params=[]) == "https://a.example/hook"
