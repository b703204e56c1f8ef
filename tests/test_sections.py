"""What a section needs: the missing tables and events named, and the one note a reader sees."""

from __future__ import annotations

import shutil

import pytest

from lib import data, sections

from .conftest import KNOWN_ANSWERS, events_table


@pytest.fixture
def shop(tmp_path):
    """A writable copy of the known-answers source: events (view_item, add_to_cart,
    begin_checkout, purchase, page_view), orders, order_items, products; no optional table."""
    folder = tmp_path / "shop"
    shutil.copytree(KNOWN_ANSWERS / "source", folder)
    return folder


def events_only(*names: str, kind: str = "") -> data.Source:
    """A source holding only events, one of each of ``names``."""
    rows = [(f"2025-03-01 0{i}:00", "u1", name) for i, name in enumerate(names)]
    return data.Source(data.duckdb_connect(), {"events": events_table(rows)}, kind=kind)


def note(src: data.Source, tables, section: str) -> str | None:
    """The note for a section needing ``tables`` (as the removed data.missing_tables_note)."""
    return sections.note(src, sections.Needs(tables=tables), section)


# ------------------------------------------------------------------ required tables


def test_the_note_names_what_is_missing_and_what_is_skipped(shop):
    (shop / "order_items.csv").unlink()
    src = data.open_source(shop)
    # every table present: no note, the section runs
    assert note(src, "orders", "the GMV section") is None
    assert note(src, ["events", "orders"], "the GMV section") is None
    # only the missing ones are named, in the order given
    assert note(src, ["orders", "order_items"], "conversion by SKU") == (
        "No order_items table in this source: conversion by SKU is skipped."
    )
    assert note(src, ("reviews", "orders", "costs"), "the review section") == (
        "No reviews or costs table in this source: the review section is skipped."
    )
    assert note(src, ["users", "reviews", "costs"], "x") == (
        "No users, reviews or costs table in this source: x is skipped."
    )


def test_the_note_says_what_kind_of_data_lacks_the_table(tmp_path):
    csv = tmp_path / "UserBehavior.csv"
    csv.write_text("u1,100,10,pv,1511575200\n", encoding="utf-8")
    src = data.open_source(f"taobao://{csv}")
    assert src.kind == "Taobao user-behaviour data"
    assert note(src, ["events", "products"], "the funnel") is None
    assert note(src, "orders", "the GMV section") == (
        "No orders table in this source (Taobao user-behaviour data): the GMV section is skipped."
    )


def test_alternatives_are_met_by_either_table(shop):
    (shop / "orders.csv").unlink()
    src = data.open_source(shop)
    overview = sections.Needs(tables=("events|orders",))
    assert sections.missing(src, overview) == []
    assert sections.note(src, overview, "the overview") is None
    both = sections.Needs(tables=("orders|reviews", "events"))
    assert sections.missing(src, both) == ["orders or reviews"]
    assert sections.note(src, both, "x") == (
        "No orders or reviews table in this source: x is skipped."
    )
    assert both.table_texts == ["orders or reviews", "events"]


def test_missing_asks_only_has_so_the_runner_can_use_it():
    class Tables:
        """Stands for what the runner opens: only ``has`` is there."""

        def has(self, name: str) -> bool:
            return name in {"orders", "order_items"}

    needs = sections.Needs(("events|orders", "events", "products", "order_items"), {"costs": "x"})
    assert sections.missing(Tables(), needs) == ["events", "products"]
    assert sections.missing(Tables(), sections.Needs(tables=("orders|events",))) == []
    # no kind on the object: the note names no kind
    assert sections.note(Tables(), sections.Needs(tables="reviews"), "the review summary") == (
        "No reviews table in this source: the review summary is skipped."
    )


def test_needs_reads_one_string_as_one_entry_and_refuses_empty_names():
    assert sections.Needs(tables="orders").tables == ("orders",)
    assert sections.Needs(events="view_item").events == ("view_item",)
    # hashable and compared by value, so a declaration can be a dictionary key or a constant
    assert hash(sections.Needs(optional={"costs": "fees"})) == hash(
        sections.Needs(optional=[("costs", "fees")])
    )
    for bad in ("", "orders|", " "):
        with pytest.raises(ValueError, match="empty table or event name"):
            sections.Needs(tables=(bad,))
    with pytest.raises(ValueError, match="empty table or event name"):
        sections.Needs(events=("view_item|",))


# ------------------------------------------------------------------ optional tables


def test_a_missing_optional_table_leaves_part_out_and_the_section_runs(shop):
    src = data.open_source(shop)  # no costs, marketing_spend or purchase_orders table
    ledger = sections.Needs(
        tables=("orders", "order_items", "products"),
        optional={"costs": "fixed fees", "marketing_spend": "promotion spend", "events": "views"},
    )
    assert sections.missing(src, ledger) == []
    # one line per missing optional table, in the order declared; the present one says nothing
    assert sections.note(src, ledger, "the monthly cost by component") == (
        "No costs table in this source: the monthly cost by component leaves out fixed fees.\n"
        "No marketing_spend table in this source: the monthly cost by component leaves out "
        "promotion spend."
    )
    present = sections.Needs(tables=("orders",), optional={"events": "views"})
    assert sections.note(src, present, "x") is None


def test_a_skipped_section_says_only_why_it_is_skipped(shop):
    src = data.open_source(shop)
    health = sections.Needs(
        tables=("inventory",), optional={"purchase_orders": "received units and sell-through"}
    )
    assert sections.missing(src, health) == ["inventory"]
    assert sections.note(src, health, "the inventory health") == (
        "No inventory table in this source: the inventory health is skipped."
    )


def test_an_optional_table_note_names_the_kind_of_data(tmp_path):
    csv = tmp_path / "UserBehavior.csv"
    csv.write_text("u1,100,10,pv,1511575200\n", encoding="utf-8")
    src = data.open_source(f"taobao://{csv}")
    needs = sections.Needs(tables=("events",), optional={"orders": "each segment's value"})
    assert sections.note(src, needs, "the activity-segment section") == (
        "No orders table in this source (Taobao user-behaviour data): the activity-segment "
        "section leaves out each segment's value."
    )


# ------------------------------------------------------------------ events


def test_events_the_source_never_has_skip_the_section():
    src = events_only("view_item", "page_view", kind="some shop's data")
    impressions = sections.Needs(events=("view_item_list", "view_item|select_item"))
    assert impressions.tables == ("events",)  # event names need the events table
    assert sections.missing_events(src, impressions) == ["view_item_list"]
    assert sections.missing(src, impressions) == ["view_item_list events"]
    assert sections.note(src, impressions, "the slot section") == (
        "No view_item_list events in this source (some shop's data): the slot section is skipped."
    )
    several = sections.Needs(events=("select_item|view_item_list", "purchase", "view_item"))
    assert sections.note(src, several, "x") == (
        "No select_item or view_item_list or purchase events in this source (some shop's data): "
        "x is skipped."
    )
    # an alternative met by one of its names, and every name there: the section runs
    assert sections.missing(src, sections.Needs(events=("select_item|view_item",))) == []
    assert sections.note(src, sections.Needs(events=("view_item", "page_view")), "x") is None


def test_events_of_a_format_that_fixes_them_are_read_from_the_format(tmp_path):
    csv = tmp_path / "UserBehavior.csv"
    csv.write_text("u1,100,10,pv,1511575200\n", encoding="utf-8")
    src = data.open_source(f"taobao://{csv}")
    # Taobao data can have carts though this file has none; it can never have list impressions
    assert sections.missing(src, sections.Needs(events=("add_to_cart",))) == []
    assert sections.note(src, sections.Needs(events=("view_item_list",)), "the slot section") == (
        "No view_item_list events in this source (Taobao user-behaviour data): the slot section "
        "is skipped."
    )


def test_a_missing_events_table_is_named_before_its_events(shop):
    (shop / "events.csv").unlink()
    src = data.open_source(shop)
    lost_sales = sections.Needs(tables=("orders", "inventory"), events=("view_item",))
    assert lost_sales.tables == ("orders", "inventory", "events")
    assert sections.missing_events(src, lost_sales) == []  # the events are not looked for
    assert sections.missing(src, lost_sales) == ["inventory", "events"]
    assert sections.note(src, lost_sales, "lost sales") == (
        "No inventory or events table in this source: lost sales is skipped."
    )


def test_the_supply_chain_needs_name_the_tables_the_source_lacks(shop):
    """What supply.supply_notes said for 06, from 06's declarations: a note for each section
    whose table is missing, none when every table is there."""
    (shop / "events.csv").unlink()
    src = data.open_source(shop)
    declared = {
        "inventory": sections.Needs(tables=("inventory",)),
        "purchase_orders": sections.Needs(tables=("purchase_orders",)),
        "shipments": sections.Needs(tables=("shipments",)),
        "lost sales": sections.Needs(tables=("inventory",), events=("view_item",)),
    }
    notes = {name: sections.note(src, needs, name) for name, needs in declared.items()}
    assert all(notes.values())
    assert "No inventory table" in notes["inventory"]
    assert notes["lost sales"] == (
        "No inventory or events table in this source: lost sales is skipped."
    )
    full = events_only("view_item")
    full.tables.update({name: full.tables["events"] for name in ("inventory", "shipments")})
    full.tables["purchase_orders"] = full.tables["events"]
    assert {name: sections.note(full, needs, name) for name, needs in declared.items()} == (
        dict.fromkeys(declared)
    )


def test_a_note_says_whether_its_section_skipped_itself(shop, capsys):
    src = data.open_source(shop)
    skipped = sections.note(src, sections.Needs(tables=("inventory",)), "the inventory health")
    partial = sections.note(
        src, sections.Needs(tables=("orders",), optional={"costs": "fixed fees"}), "the ledger"
    )
    assert skipped.skipped and not partial.skipped
    other = sections.skip_note("the GMV decomposition", "the previous period covers only 1 day")
    assert other == "The GMV decomposition is skipped: the previous period covers only 1 day."
    assert other.skipped
    # outside a notebook the note is printed; None or an empty note shows nothing
    sections.show(skipped)
    sections.show(None)
    assert capsys.readouterr().out == (
        "No inventory table in this source: the inventory health is skipped.\n"
    )


def test_in_a_notebook_a_note_is_shown_marked_for_the_report(shop, monkeypatch):
    import IPython
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython, "get_ipython", lambda: object())
    monkeypatch.setattr(
        IPython.display, "display", lambda data, raw, metadata: shown.append((data, metadata))
    )
    note = sections.skip_note("the cost growth", "not compared (compare_to none)")
    sections.show(note)
    assert shown == [
        (
            {"text/plain": "The cost growth is skipped: not compared (compare_to none)."},
            {sections.NOTE_METADATA: {"skipped": True}},
        )
    ]
