"""What rendering one job result costs the database (Conversation.render_delivery), on SQLite
and PostgreSQL: one transaction that reads the job's owner, then what the delivery names (the
face and its picture, or the sheet's face and picture), and for a sheet remembers the set shown."""

from __future__ import annotations

from sqlalchemy import event

from chat_harness import ChatHarness


class Counted(ChatHarness):
    """Records the transactions and statements of each render_delivery call (the styles'
    periodic read of what workers announced left out)."""

    def __init__(self, engine) -> None:
        super().__init__(engine)
        self.renders: list[tuple[str, int, list[str]]] = []   # (delivery type, transactions, statements)
        render = self.conversation.render_delivery

        async def counted(delivery):
            transactions, statements = [], []

            def began(conn) -> None:
                transactions.append(conn)

            def executed(conn, cursor, statement, parameters, context, executemany) -> None:
                if not statement.startswith("BEGIN") and "served_models" not in statement:
                    statements.append(statement.split(None, 1)[0])

            event.listen(engine.sync_engine, "begin", began)
            event.listen(engine.sync_engine, "before_cursor_execute", executed)
            try:
                return await render(delivery)
            finally:
                event.remove(engine.sync_engine, "begin", began)
                event.remove(engine.sync_engine, "before_cursor_execute", executed)
                self.renders.append((delivery.payload["type"], len(transactions), statements))

        self.conversation.render_delivery = counted


async def test_a_result_is_rendered_in_one_transaction_from_what_its_delivery_names(engine):
    chat = Counted(engine)
    await chat.start("ann")
    face = await chat.send("ann", "new 1")
    sheet = await chat.send("ann", "variations")
    assert face[-1].text.startswith("#1: a new face.") and face[-1].pictures
    assert sheet[-1].text.startswith("Pick 1–10") and sheet[-1].pictures
    assert chat.renders == [
        ("face", 1, ["SELECT"] * 4),                         # owner, face, picture, messages waiting for it
        ("sheet", 1, ["SELECT"] * 3 + ["INSERT", "UPDATE"]),  # owner, face, picture; the set shown
    ]
    picked = await chat.send("ann", "3")                     # the set shown is the one picked from
    assert picked[-1].text.startswith("#2: variation 3 picked for #1.")
