"""Per-account request rate and concurrency, shared by every worker through Redis.

Both limits are checked and recorded in one Lua script, so two workers admitting requests
for the same account at the same moment cannot both slip past a limit."""

from __future__ import annotations

from redis.asyncio import Redis

WINDOW_S = 60.0
DEFAULT_LEASE_S = 900.0

# KEYS[1]: ZSET of request ids admitted in the last window, scored by admission time (ms).
# KEYS[2]: ZSET of request ids in flight, scored by the time their lease runs out (ms).
# ARGV: request id, per_minute, concurrent, window ms, lease ms.
# Returns -1 when admitted, 0 when the in-flight limit refused, else milliseconds to wait.
# Server TIME keeps every worker on one clock; an id already recorded is admitted again
# without being counted twice, so a retried call (lost reply) cannot use up two slots.
_ACQUIRE_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local id = ARGV[1]
local per_minute = tonumber(ARGV[2])
local concurrent = tonumber(ARGV[3])
local window = tonumber(ARGV[4])
local lease = tonumber(ARGV[5])
local counted = false
if per_minute > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
  counted = redis.call('ZSCORE', KEYS[1], id) ~= false
  local used = redis.call('ZCARD', KEYS[1])
  if not counted and used >= per_minute then
    local oldest = redis.call('ZRANGE', KEYS[1], used - per_minute, used - per_minute, 'WITHSCORES')
    return math.max(1, tonumber(oldest[2]) + window - now)
  end
end
if concurrent > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
  local held = redis.call('ZSCORE', KEYS[2], id) ~= false
  if not held and redis.call('ZCARD', KEYS[2]) >= concurrent then
    return 0
  end
  redis.call('ZADD', KEYS[2], now + lease, id)
  redis.call('PEXPIRE', KEYS[2], lease)
end
if per_minute > 0 and not counted then
  redis.call('ZADD', KEYS[1], now, id)
  redis.call('PEXPIRE', KEYS[1], window)
end
return -1
"""


class RedisRateLimiter:
    """``RateLimiter`` on Redis: a sliding-window log per account plus an in-flight set.

    In-flight entries carry a lease (``lease_s``) so the slots of a worker that died without
    releasing free themselves. A limit of zero or less means unlimited (and is not recorded).
    """

    def __init__(
        self, client: Redis, prefix: str = "sb:", *, lease_s: float = DEFAULT_LEASE_S
    ) -> None:
        if lease_s <= 0:
            raise ValueError("lease_s must be positive")
        self._client = client
        self._prefix = prefix
        self._lease_ms = int(lease_s * 1000)
        self._acquire = client.register_script(_ACQUIRE_LUA)

    def _keys(self, account_id: int) -> tuple[str, str]:
        # The hash tag keeps both keys of an account in one cluster slot, as scripts need.
        base = f"{self._prefix}rl:{{{account_id}}}"
        return f"{base}:rate", f"{base}:inflight"

    async def acquire(
        self, account_id: int, request_id: str, per_minute: int, concurrent: int
    ) -> float | None:
        if per_minute <= 0 and concurrent <= 0:
            return None
        reply = await self._acquire(
            keys=list(self._keys(account_id)),
            args=[request_id, per_minute, concurrent, int(WINDOW_S * 1000), self._lease_ms],
        )
        waited_ms = int(reply)
        if waited_ms < 0:
            return None
        return waited_ms / 1000.0

    async def release(self, account_id: int, request_id: str) -> None:
        _, inflight = self._keys(account_id)
        await self._client.zrem(inflight, request_id)
