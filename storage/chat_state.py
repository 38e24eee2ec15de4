"""Per-user chat state: what the conversation core remembers between messages.

    last set shown   the candidate set a bare "3" picks from (the face it was drawn around + its recipe)
    breeding         the breeding array being bred (issue #21): its round, the faces selected in it, and
                     the locks; it outlives other sets shown between its rounds (a grid, variations)
    pending          the question awaiting yes / no (delete my data, the first-use notice)
    redo             faces undone, most recent last; a new step clears it
    notice           whether the first-use notice was acknowledged
    style            the style the user chose for new faces (a job route, "backend/model")
    saved names      "save smiley" → one of the user's faces

Like FaceRepository, `ChatStates` works inside the caller's session and transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import UNFINISHED_STATES, ChatState, Job, SavedFace, User

MAX_REDO = 50
MAX_SAVED_NAME_CHARS = 64


@dataclass(frozen=True)
class ShownSet:
    """A candidate set shown to the user: drawn around face `face_id` (the user's #face_number)."""
    face_id: int
    face_number: int
    params: dict[str, Any]          # facegen.recipes candidate-set recipe


@dataclass(frozen=True)
class Breeding:
    """Breeding around face `face_id` (the user's #face_number): the round shown last (a
    facegen.breeding round, its params), the faces selected in it (numbers, best-liked first), and
    the regions kept as they are. `params` is None once it is over (done, stopped): the locks stay
    for the next breeding."""
    face_id: int | None = None
    face_number: int | None = None
    params: dict[str, Any] | None = None
    chosen: tuple[int, ...] = ()
    locks: tuple[str, ...] = ()

    @property
    def live(self) -> bool:
        return self.params is not None

    def to_json(self) -> dict[str, Any]:
        return {"face_id": self.face_id, "face_number": self.face_number, "set": self.params,
                "chosen": list(self.chosen), "locks": list(self.locks)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Breeding":
        return cls(data.get("face_id"), data.get("face_number"), data.get("set"), tuple(data.get("chosen") or ()),
                   tuple(data.get("locks") or ()))


@dataclass(frozen=True)
class ChatStateRecord:
    user_id: int
    last_set: ShownSet | None = None
    pending: dict[str, Any] | None = None
    redo: tuple[int, ...] = ()
    notice_acknowledged: bool = False
    style: str | None = None
    breeding: Breeding = Breeding()


_UNSET: Any = object()


def saved_name_key(name: str) -> str:
    """Saved names compare without case or surrounding space."""
    return " ".join(name.split()).casefold()[:MAX_SAVED_NAME_CHARS]


class ChatStates:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, user_id: int) -> ChatStateRecord:
        row = await self._session.get(ChatState, user_id, populate_existing=True)
        if row is None:
            return ChatStateRecord(user_id)
        last = row.last_set
        return ChatStateRecord(
            user_id=user_id,
            last_set=None if last is None else ShownSet(last["face_id"], last["face_number"], dict(last["set"])),
            pending=None if row.pending is None else dict(row.pending),
            redo=tuple(row.redo or ()), notice_acknowledged=row.notice_acknowledged, style=row.style,
            breeding=Breeding() if row.breeding is None else Breeding.from_json(row.breeding))

    async def update(self, user_id: int, *, last_set: ShownSet | None = _UNSET, pending: dict | None = _UNSET,
                     redo: tuple[int, ...] = _UNSET, notice_acknowledged: bool = _UNSET,
                     style: str | None = _UNSET, breeding: Breeding = _UNSET) -> None:
        """Change only the fields given; creates the row on first use (safe under concurrency)."""
        insert = postgresql.insert if self._dialect == "postgresql" else sqlite.insert
        await self._session.execute(
            insert(ChatState).values(user_id=user_id, redo=[], notice_acknowledged=False)
            .on_conflict_do_nothing(index_elements=["user_id"]))
        values: dict[str, Any] = {}
        if last_set is not _UNSET:
            values["last_set"] = None if last_set is None else {
                "face_id": last_set.face_id, "face_number": last_set.face_number, "set": last_set.params}
        if pending is not _UNSET:
            values["pending"] = pending
        if redo is not _UNSET:
            values["redo"] = list(redo)[-MAX_REDO:]
        if notice_acknowledged is not _UNSET:
            values["notice_acknowledged"] = notice_acknowledged
        if style is not _UNSET:
            values["style"] = style
        if breeding is not _UNSET:
            values["breeding"] = breeding.to_json()
        if values:
            await self._session.execute(
                update(ChatState).where(ChatState.user_id == user_id).values(**values)
                .execution_options(synchronize_session=False))

    async def set_locale(self, user_id: int, locale: str, *, chosen: bool) -> None:
        await self._session.execute(
            update(User).where(User.id == user_id).values(locale=locale, locale_chosen=chosen)
            .execution_options(synchronize_session=False))

    # --- saved names ------------------------------------------------------------------------

    async def save_name(self, user_id: int, name: str, face_id: int) -> None:
        """Give a face a name; saving an existing name again moves it to this face."""
        key = saved_name_key(name)
        insert = postgresql.insert if self._dialect == "postgresql" else sqlite.insert
        await self._session.execute(
            insert(SavedFace).values(user_id=user_id, name=key, face_id=face_id)
            .on_conflict_do_update(index_elements=["user_id", "name"], set_={"face_id": face_id}))

    async def saved_face_id(self, user_id: int, name: str) -> int | None:
        return (await self._session.execute(
            select(SavedFace.face_id).where(SavedFace.user_id == user_id,
                                            SavedFace.name == saved_name_key(name)))).scalar()

    async def saved_names(self, user_id: int) -> dict[int, list[str]]:
        """Face id → the names the user gave it."""
        rows = (await self._session.execute(
            select(SavedFace.face_id, SavedFace.name).where(SavedFace.user_id == user_id)
            .order_by(SavedFace.name))).all()
        names: dict[int, list[str]] = {}
        for face_id, name in rows:
            names.setdefault(face_id, []).append(name)
        return names

    # --- jobs -------------------------------------------------------------------------------

    async def unfinished_jobs(self, user_id: int, kinds: tuple[str, ...] = ()) -> list[int]:
        """The user's queued or running job ids (of `kinds`, where given), oldest first."""
        query = select(Job.id).where(Job.user_id == user_id, Job.state.in_(UNFINISHED_STATES))
        if kinds:
            query = query.where(Job.kind.in_(kinds))
        return list((await self._session.execute(query.order_by(Job.id))).scalars())

    # --- forgetting -------------------------------------------------------------------------

    async def forget(self, user_id: int) -> None:
        """Delete the chat state and saved names (the user's jobs: storage/privacy.py)."""
        await self._session.execute(delete(SavedFace).where(SavedFace.user_id == user_id))
        await self._session.execute(delete(ChatState).where(ChatState.user_id == user_id))

    @property
    def _dialect(self) -> str:
        return self._session.get_bind().dialect.name


