"""What a report section needs from the source, and the one note a reader sees when it is not there.

A notebook declares each section's needs in the cell that runs it and asks this module whether the
source meets them::

    needs = sections.Needs(tables=("orders",))
    note = sections.note(src, needs, "the GMV section")
    if note:
        print(note)
    else:
        ...  # the section, writing its tables and figures

so a skipped section writes no table or figure at all. A section with optional tables prints its
note and runs when ``missing(src, needs)`` is empty. The runner skips a whole notebook with the
same declaration (:func:`missing`, which asks the source only ``has(name)`` for tables).

Three kinds of need, one wording for each (``<kind>`` is e.g. " (Taobao user-behaviour data)",
the :attr:`lib.data.Source.kind` that explains why a table is missing):

- ``tables``: the section is skipped without them. Each entry is a table name or alternatives
  ``"events|orders"`` (either will do). Note: "No orders table in this source<kind>: the GMV
  section is skipped." (several: "No orders or order_items table ...").
- ``events``: event names the section cannot do without (alternatives ``"view_item|select_item"``
  as for tables); they imply the ``events`` table. Skipped when the source can never hold one
  (:meth:`lib.data.Source.possible_event_names`): "No view_item events in this source<kind>:
  lost sales is skipped."
- ``optional``: tables the section runs without, each with what it then leaves out. Note, one
  line per missing table: "No purchase_orders table in this source<kind>: the inventory health
  leaves out received units and sell-through."
- ``columns``: optional contract columns (``"products.unit_cost"``) whose values the section
  cannot do without; they imply their table. A column absent or empty throughout is missing
  (:meth:`lib.data.Source.has_column`): "No unit_cost in this source<kind>: product roles is
  skipped." An ``optional`` entry may name such a column too: "No unit_cost in this source: the
  inventory health leaves out stock value."

A section that needs several notes' worth (a required table and an optional one missing) gets the
skip note only: nothing runs, so nothing is left out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

EVENTS_TABLE = "events"


class Tables(Protocol):
    """What :func:`missing` asks of a source: whether it has a table (:class:`lib.data.Source`)."""

    def has(self, name: str) -> bool: ...


def _has_column(source: Tables, entry: str) -> bool:
    """Whether the source has ``"table.column"`` with values; a source that cannot say (no
    ``has_column``, e.g. a test's stand-in) is taken to have it when it has the table."""
    table, column = entry.split(".", 1)
    has_column = getattr(source, "has_column", None)
    if has_column is None:
        return source.has(table)
    return bool(has_column(table, column))


def _is_column(entry: str) -> bool:
    return "." in entry


def _had(source: Tables, entry: str) -> bool:
    """Whether the source meets one ``optional`` entry: a table (or alternatives) or a column."""
    if _is_column(entry):
        return _has_column(source, entry)
    return any(source.has(name) for name in entry.split("|"))


def _what(entry: str) -> str:
    """How a note names a missing entry: ``unit_cost`` for a column, ``x table`` for tables."""
    return entry.split(".", 1)[1] if _is_column(entry) else f"{entry_text(entry)} table"


@dataclass(frozen=True)
class Needs:
    """What one section (or notebook) needs from the source; see the module docstring.

    ``tables`` and ``events`` entries are names or ``"a|b"`` alternatives; ``optional`` maps a
    table (or alternatives) to a noun phrase naming what the section leaves out without it. A
    single string is read as one entry, and a mapping is kept as ordered pairs (so that ``Needs``
    stays hashable). Declaring ``events`` adds the ``events`` table to ``tables`` when no entry
    names it alone.
    """

    tables: tuple[str, ...] = ()
    optional: tuple[tuple[str, str], ...] = ()
    events: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()

    def __init__(
        self,
        tables: str | Sequence[str] = (),
        optional: Mapping[str, str] | Sequence[tuple[str, str]] = (),
        events: str | Sequence[str] = (),
        columns: str | Sequence[str] = (),
    ) -> None:
        required = _entries(tables)
        wanted = _entries(events)
        if wanted and EVENTS_TABLE not in required:
            required = (*required, EVENTS_TABLE)
        needed = _entries(columns)
        for entry in needed:
            if not _is_column(entry) or not all(part.strip() for part in entry.split(".", 1)):
                raise ValueError(f"a column is written 'table.column', not {entry!r}")
            table = entry.split(".", 1)[0]
            if table not in required:
                required = (*required, table)
        pairs = tuple(optional.items()) if isinstance(optional, Mapping) else tuple(optional)
        for entry in (*required, *wanted, *(table for table, _ in pairs)):
            if not entry or any(not name.strip() for name in entry.split("|")):
                raise ValueError(f"empty table or event name in {entry!r}")
        # frozen: fields are set once here, through object.__setattr__
        object.__setattr__(self, "tables", required)
        object.__setattr__(self, "optional", tuple((str(t), str(what)) for t, what in pairs))
        object.__setattr__(self, "events", wanted)
        object.__setattr__(self, "columns", needed)

    @property
    def table_texts(self) -> list[str]:
        """The required tables as a reader reads them: ``"events|orders"`` as "events or orders"."""
        return [entry_text(entry) for entry in self.tables]


def _entries(value: str | Sequence[str]) -> tuple[str, ...]:
    # a lone string is one entry, not its characters
    return (value,) if isinstance(value, str) else tuple(value)


def entry_text(entry: str) -> str:
    """``"events|orders"`` as ``"events or orders"`` (a single name unchanged)."""
    return " or ".join(entry.split("|"))


def _listed(texts: list[str]) -> str:
    """``a``, ``a or b``, ``a, b or c``."""
    return texts[0] if len(texts) == 1 else f"{', '.join(texts[:-1])} or {texts[-1]}"


def missing_tables(source: Tables, needs: Needs) -> list[str]:
    """The required table entries none of whose tables the source has, as text, in the order
    declared (``"events or orders"``)."""
    return [
        entry_text(entry)
        for entry in needs.tables
        if not any(source.has(name) for name in entry.split("|"))
    ]


def missing_events(source: Tables, needs: Needs) -> list[str]:
    """The event entries the source can never hold, as text (``"view_item"``): none of their
    names is among :meth:`lib.data.Source.possible_event_names`. Empty when the section declares
    no events or the source has no events table (that table is then reported missing)."""
    if not needs.events or not source.has(EVENTS_TABLE):
        return []
    possible = set(source.possible_event_names())  # type: ignore[attr-defined]
    return [
        entry_text(entry)
        for entry in needs.events
        if not any(name in possible for name in entry.split("|"))
    ]


def missing_columns(source: Tables, needs: Needs) -> list[str]:
    """The required columns the source lacks or holds no value in, by name (``"unit_cost"``)."""
    return [_what(entry) for entry in needs.columns if not _has_column(source, entry)]


def missing(source: Tables, needs: Needs) -> list[str]:
    """What the source lacks for the section to run at all, as text; empty when it runs.

    The missing required tables (``"events or orders"``); when none is missing, the missing
    events (``"view_item events"``). Optional tables never count. For tables it asks only
    ``source.has(name)``, so the runner's skip decision uses the same declaration as the
    notebook's note.
    """
    tables = missing_tables(source, needs)
    if tables:
        return tables
    return [f"{text} events" for text in missing_events(source, needs)] + missing_columns(
        source, needs
    )


class Note(str):
    """A reader's note about a section: the text, and whether the section ``skipped`` itself
    (else it runs and the note says what it leaves out). It is a ``str``, so ``print`` and
    ``if note:`` work as on any text; :func:`show` also tells report.html which it is."""

    skipped: bool

    def __new__(cls, text: str, skipped: bool) -> Note:
        made = super().__new__(cls, text)
        made.skipped = skipped
        return made


# The output metadata key that marks a section note (read by lib/report.py).
NOTE_METADATA = "section_note"
# The output metadata key of the run's summary, which report.html shows above its contents
# (lib/executive.py displays it).
SUMMARY_METADATA = "executive_summary"


def skip_note(section: str, why: str) -> Note:
    """``"<Section> is skipped: <why>."``: a section skipped for a reason other than a table or
    event the source lacks (e.g. a baseline the data does not cover, lib/comparison.py)."""
    return Note(f"{section[:1].upper()}{section[1:]} is skipped: {why}.", skipped=True)


def note(source: Tables, needs: Needs, section: str) -> Note | None:
    """The note a reader sees about ``section`` on this source, or None when it has everything.

    ``section`` is a noun phrase taking "is skipped" ("the GMV section", "conversion by SKU").
    A skipped section gets one line naming what it lacks; a section that runs without some
    optional tables gets one line per table naming what it leaves out (module docstring).
    """
    kind = getattr(source, "kind", "")
    where = f"in this source{f' ({kind})' if kind else ''}"
    tables = missing_tables(source, needs)
    if tables:
        return Note(f"No {_listed(tables)} table {where}: {section} is skipped.", skipped=True)
    events = missing_events(source, needs)
    if events:
        return Note(f"No {_listed(events)} events {where}: {section} is skipped.", skipped=True)
    columns = missing_columns(source, needs)
    if columns:
        return Note(f"No {_listed(columns)} {where}: {section} is skipped.", skipped=True)
    lines = [
        f"No {_what(entry)} {where}: {section} leaves out {what}."
        for entry, what in needs.optional
        if not _had(source, entry)
    ]
    return Note("\n".join(lines), skipped=False) if lines else None


def show(note: str | None) -> None:
    """Show ``note`` (from :func:`note` or :func:`skip_note`; nothing when None or empty) in the
    notebook, marked so that report.html lists a skipped section, with its reason, in its
    contents. Outside a notebook it is printed."""
    if not note:
        return
    from IPython import get_ipython

    if get_ipython() is None:
        print(note)
        return
    from IPython.display import display

    skipped = bool(getattr(note, "skipped", False))
    display({"text/plain": str(note)}, raw=True, metadata={NOTE_METADATA: {"skipped": skipped}})
