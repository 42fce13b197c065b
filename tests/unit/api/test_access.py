from services.api.access import RateLimiter, key_accepted, key_hash


def test_no_configured_key_lets_everyone_in() -> None:
    assert key_accepted(None, [])


def test_a_key_is_accepted_only_when_its_hash_is_configured() -> None:
    hashes = [key_hash("reader-key"), key_hash("app-key").upper()]
    assert key_accepted("reader-key", hashes)
    assert key_accepted("app-key", hashes)  # hex digests compare case-insensitively
    assert not key_accepted("reader-kez", hashes)
    assert not key_accepted(None, hashes)
    assert not key_accepted("", hashes)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_caller_gets_its_burst_then_the_refill_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(per_minute=60, burst=3, clock=clock)
    assert [limiter.wait_needed("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.wait_needed("a") == 1.0  # one token a second
    assert limiter.wait_needed("b") == 0.0  # callers do not share a bucket
    clock.now = 1.0
    assert limiter.wait_needed("a") == 0.0
    assert limiter.wait_needed("a") > 0


def test_idle_callers_are_forgotten_when_there_are_many() -> None:
    clock = Clock()
    limiter = RateLimiter(per_minute=60, burst=2, clock=clock)
    limiter.max_callers = 3
    for caller in "abcd":
        limiter.wait_needed(caller)
    clock.now = 10.0  # everyone's bucket has refilled
    limiter.wait_needed("e")
    assert set(limiter.buckets) == {"e"}
