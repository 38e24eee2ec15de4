"""Network bans: the web chat refuses a network for a time. A web identity is a cookie, so a
banned web user can drop it and come back as someone new; a block on their network cannot be
shaken off that way.

Two kinds of block, both ending at `until`:
- a network an operator names (`dreamface mod block 203.0.113.0/24 --hours 24`);
- the network of a banned web user (the dashboard's "also block their network"): the user row
  keeps only the key of the address they last wrote from (ground/limits.address_key, an HMAC),
  so the block holds that key and no address is ever stored.

Like the other storage classes, `NetworkBans` works inside the caller's transaction and writes
the audit row of each change (moderation_events, action "block" / "unblock").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from ipaddress import IPv4Network, IPv6Network, ip_network

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ModerationEvent, NetworkBan, User, utcnow
from storage.moderation import aware

MAX_BLOCK = timedelta(days=366)   # a block always ends; a longer one is a typo more often than a wish
MAX_REASON_CHARS = 500


class BadNetwork(ValueError):
    """Not an address or network (CIDR), or a block that would never end or already has."""


@dataclass(frozen=True)
class BlockRecord:
    id: int
    network: str | None       # the CIDR an operator named
    address_key: str | None   # or a banned user's address key
    until: datetime
    reason: str
    actor: str

    @property
    def target(self) -> str:
        return self.network or "a banned user's network"


def parse_network(text: str) -> IPv4Network | IPv6Network:
    """An address (a one-address network) or a CIDR network, host bits allowed ("10.1.2.3/24")."""
    try:
        network = ip_network(text.strip(), strict=False)
    except ValueError:
        raise BadNetwork(f"not an IP address or network: {text[:80]!r} (e.g. 203.0.113.0/24)") from None
    if network.prefixlen == 0:
        raise BadNetwork("a block of every address would close the web chat; name a smaller network")
    return network


def _record(row: NetworkBan) -> BlockRecord:
    return BlockRecord(row.id, row.network, row.address_key, aware(row.until), row.reason, row.actor)


class NetworkBans:
    def __init__(self, session: AsyncSession, actor: str = "system") -> None:
        self._session = session
        self._actor = actor

    async def block_network(self, network: str, duration: timedelta, reason: str = "") -> BlockRecord:
        parsed = parse_network(network)
        return await self._add(network=str(parsed), address_key=None, duration=duration, reason=reason,
                               user_id=None, what=str(parsed))

    async def block_user_network(self, user_id: int, duration: timedelta, reason: str = "") -> BlockRecord | None:
        """Block the network a web user last wrote from; None when they have no known address
        (not a web user, or never wrote since the key was kept)."""
        key = (await self._session.execute(select(User.address_key).where(User.id == user_id))).scalar()
        if key is None:
            return None
        return await self._add(network=None, address_key=key, duration=duration, reason=reason, user_id=user_id,
                               what="the user's network")

    async def unblock(self, block_id: int) -> bool:
        row = await self._session.get(NetworkBan, block_id)
        if row is None:
            return False
        await self._session.execute(delete(NetworkBan).where(NetworkBan.id == block_id))
        self._session.add(ModerationEvent(actor=self._actor, action="unblock", reason=_record(row).target))
        await self._session.flush()
        return True

    async def active(self, now: datetime | None = None) -> list[BlockRecord]:
        rows = (await self._session.execute(
            select(NetworkBan).where(NetworkBan.until > (now or utcnow())).order_by(NetworkBan.id))).scalars()
        return [_record(row) for row in rows]

    async def end_expired(self, now: datetime | None = None) -> int:
        """Forget blocks that have ended (the clean-up job)."""
        result = await self._session.execute(delete(NetworkBan).where(NetworkBan.until <= (now or utcnow())))
        return result.rowcount

    async def _add(self, *, network: str | None, address_key: str | None, duration: timedelta, reason: str,
                   user_id: int | None, what: str) -> BlockRecord:
        if not timedelta(0) < duration <= MAX_BLOCK:
            raise BadNetwork(f"a block lasts more than 0 and at most {MAX_BLOCK.days} days")
        row = NetworkBan(network=network, address_key=address_key, until=utcnow() + duration,
                         reason=reason[:MAX_REASON_CHARS], actor=self._actor)
        self._session.add(row)
        self._session.add(ModerationEvent(actor=self._actor, action="block", target_user_id=user_id,
                                          reason=f"{what} until {row.until:%Y-%m-%d %H:%M} UTC: {reason}"[:MAX_REASON_CHARS]))
        await self._session.flush()
        return _record(row)
