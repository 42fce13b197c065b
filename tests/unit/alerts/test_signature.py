from shared.webhooks import sign, verify

BODY = b'{"alert_id": "al-1"}'


def test_a_signature_verifies_only_for_its_secret_body_and_time() -> None:
    signature = sign("s3cret", 1_700_000_000, BODY)
    assert signature.startswith("sha256=")
    assert verify("s3cret", "1700000000", BODY, signature, now=1_700_000_010)
    assert not verify("other", "1700000000", BODY, signature, now=1_700_000_010)
    assert not verify("s3cret", "1700000000", BODY + b" ", signature, now=1_700_000_010)
    assert not verify("s3cret", "1700000001", BODY, signature, now=1_700_000_010)  # the time is signed too


def test_an_old_or_malformed_timestamp_is_refused() -> None:
    signature = sign("s3cret", 1_700_000_000, BODY)
    assert not verify("s3cret", "1700000000", BODY, signature, now=1_700_000_000 + 3600)
    assert not verify("s3cret", "soon", BODY, signature, now=1_700_000_000)
