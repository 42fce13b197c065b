from __future__ import annotations

import gzip
import ipaddress
import zlib

import pytest

from services.ingest.collect.fetch import AddressPolicy, FetchRefused, _Decoder, retry_after_seconds


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.9",
        "192.168.1.1",
        "169.254.169.254",
        "0.0.0.0",
        "::1",
        "fe80::1",
        "fd00:ec2::254",
        "::ffff:127.0.0.1",
        "224.0.0.1",
        "100.64.0.1",
    ],
)
def test_internal_addresses_are_refused(address: str) -> None:
    assert not AddressPolicy().permits(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert AddressPolicy().permits(ipaddress.ip_address(address))


def test_an_allow_list_opens_only_its_networks() -> None:
    policy = AddressPolicy.from_strings(["127.0.0.1/32", "10.0.0.0/8"])
    assert policy.permits(ipaddress.ip_address("127.0.0.1"))
    assert policy.permits(ipaddress.ip_address("10.9.9.9"))
    assert not policy.permits(ipaddress.ip_address("127.0.0.2"))
    assert not policy.permits(ipaddress.ip_address("169.254.169.254"))


def test_retry_after_in_seconds_or_as_a_date() -> None:
    assert retry_after_seconds("120") == 120
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


@pytest.mark.parametrize("encoding", ["gzip", "deflate", ""])
def test_bodies_are_decoded(encoding: str) -> None:
    body = b"<p>hello</p>" * 100
    wire = {"gzip": gzip.compress(body), "deflate": zlib.compress(body), "": body}[encoding]
    decoder = _Decoder(encoding, 10_000, "u")
    for start in range(0, len(wire), 7):
        decoder.feed(wire[start : start + 7])
    assert decoder.finish() == body


def test_raw_deflate_without_a_zlib_header_is_decoded() -> None:
    compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    wire = compressor.compress(b"raw deflate body") + compressor.flush()
    decoder = _Decoder("deflate", 1000, "u")
    decoder.feed(wire)
    assert decoder.finish() == b"raw deflate body"


def test_a_compression_bomb_is_stopped_at_the_cap_without_expanding() -> None:
    bomb = gzip.compress(b"\0" * 50_000_000)
    decoder = _Decoder("gzip", 1_000_000, "u")
    with pytest.raises(FetchRefused) as refused:
        decoder.feed(bomb)
    assert refused.value.reason == "too_large"
    assert decoder.size <= 1_000_001


@pytest.mark.parametrize("encoding", ["br", "gzip, gzip", "compress"])
def test_unknown_or_stacked_encodings_are_refused(encoding: str) -> None:
    with pytest.raises(FetchRefused):
        _Decoder(encoding, 100, "u")
