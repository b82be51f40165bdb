"""Open realtime sockets per key (services/ingress/domain/socket_caps.py): up to the cap, freed on release."""

from services.ingress.domain.socket_caps import OpenSockets


def test_a_key_is_admitted_up_to_its_cap_and_a_release_frees_one_place() -> None:
    sockets: OpenSockets[str] = OpenSockets(2)
    assert [sockets.admit("10.0.0.1") for _ in range(3)] == [True, True, False]
    assert sockets.admit("10.0.0.2")  # another key has its own count
    sockets.release("10.0.0.1")
    assert sockets.admit("10.0.0.1")
    assert not sockets.admit("10.0.0.1")


def test_a_refused_socket_counts_nothing_and_a_key_with_none_open_starts_afresh() -> None:
    sockets: OpenSockets[str] = OpenSockets(1)
    assert sockets.admit("a") and not sockets.admit("a") and not sockets.admit("a")
    sockets.release("a")
    sockets.release("a")  # a release beyond the admitted ones does not bank a place
    assert sockets.admit("a") and not sockets.admit("a")
