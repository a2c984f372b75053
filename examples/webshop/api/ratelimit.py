"""Failed-login counter in Redis: a fixed 15-minute window per account."""
import os

import redis

_redis = redis.Redis.from_url(os.environ.get("SHOP_REDIS_URL", "redis://localhost:6379/0"))
WINDOW_SECONDS = 15 * 60
MAX_FAILURES = 5


def _key(email: str) -> str:
    return f"login-failures:{email}"


def too_many_failures(email: str) -> bool:
    count = _redis.get(_key(email))
    return count is not None and int(count) >= MAX_FAILURES


def record_failure(email: str) -> None:
    pipe = _redis.pipeline()
    pipe.incr(_key(email))
    pipe.expire(_key(email), WINDOW_SECONDS, nx=True)
    pipe.execute()
