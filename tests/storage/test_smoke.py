from sqlalchemy import select

from storage.db import session_factory
from storage.models import User


async def test_user_round_trip(engine):
    Session = session_factory(engine)
    async with Session() as session, session.begin():
        session.add(User(platform="web", platform_user_id="u1", locale="en"))
    async with Session() as session:
        user = (await session.execute(select(User))).scalar_one()
    assert (user.platform, user.platform_user_id, user.locale, user.banned) == ("web", "u1", "en", False)
