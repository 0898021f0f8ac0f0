"""The kind-neutral virtual grid: many rows stay cheap, the cursor moves over cells and
scrolls both ways, marks, NULLs, awkward text, and the owner hears when more rows are wanted."""

from __future__ import annotations

import time

import pytest
from textual.app import App, ComposeResult

from studio_tui.widgets.data_grid import DataGrid, GridColumn, one_line


class GridApp(App):
    def __init__(self) -> None:
        super().__init__()
        self.heard: list[object] = []

    def compose(self) -> ComposeResult:
        yield DataGrid(id="grid")

    def on_data_grid_near_end(self, message: DataGrid.NearEnd) -> None:
        self.heard.append(message)

    def on_data_grid_selected(self, message: DataGrid.Selected) -> None:
        self.heard.append(message)


def _rows(count: int, start: int = 0) -> list[tuple[str | None, ...]]:
    return [(str(n), f"name {n}", None if n % 3 == 0 else f"{n * 1.5}") for n in
            range(start, start + count)]


def _lines(grid: DataGrid) -> list[str]:
    return [grid.render_line(y).text for y in range(grid.scrollable_content_region.height)]


async def test_a_hundred_thousand_rows_append_and_draw_at_once():
    app = GridApp()
    async with app.run_test(size=(80, 24)) as pilot:
        grid = app.query_one(DataGrid)
        grid.set_columns([GridColumn("id", align_right=True), GridColumn("name"),
                          GridColumn("score", "float8")])
        started = time.perf_counter()
        for page in range(100):
            grid.append_rows(_rows(1000, page * 1000))
        await pilot.pause()
        assert time.perf_counter() - started < 2.0
        assert grid.row_count == 100_000
        lines = _lines(grid)
        assert "id" in lines[0] and "score float8" in lines[0]
        assert lines[1].split()[:3] == ["0", "name", "0"] and "NULL" in lines[1]
        grid.focus()
        await pilot.press("end")
        assert grid.cursor_row == 99_999
        assert "99999" in _lines(grid)[-1]
        await pilot.press("home", "down", "down")
        assert grid.cursor_row == 2 and "name 2" in _lines(grid)[3]


async def test_the_cursor_scrolls_sideways_to_a_far_column_and_back():
    app = GridApp()
    async with app.run_test(size=(60, 20)) as pilot:
        grid = app.query_one(DataGrid)
        grid.set_columns([GridColumn(f"column_{n}") for n in range(30)])
        grid.append_rows([[f"v{n}_{r}" for n in range(30)] for r in range(5)])
        grid.focus()
        await pilot.pause()
        await pilot.press("dollar_sign")
        assert grid.cursor_column == 29
        assert grid.scroll_offset.x > 0
        assert "column_29" in _lines(grid)[0]
        await pilot.press("0")
        assert grid.scroll_offset.x == 0 and "column_0" in _lines(grid)[0]
        await pilot.press("right", "enter")
        await pilot.pause()
        selected = [m for m in app.heard if isinstance(m, DataGrid.Selected)]
        assert (selected[-1].row, selected[-1].column) == (0, 1)


async def test_nearing_the_last_loaded_row_asks_for_more():
    app = GridApp()
    async with app.run_test(size=(80, 24)) as pilot:
        grid = app.query_one(DataGrid)
        grid.set_columns([GridColumn("n")])
        grid.append_rows([[str(n)] for n in range(200)])
        grid.focus()
        await pilot.pause()
        assert not [m for m in app.heard if isinstance(m, DataGrid.NearEnd)]
        await pilot.press("pagedown", "pagedown", "pagedown", "pagedown", "pagedown",
                          "pagedown", "pagedown")
        await pilot.pause()
        near = [m for m in app.heard if isinstance(m, DataGrid.NearEnd)]
        assert near and near[-1].loaded == 200


async def test_marks_follow_space_and_are_dropped_with_removed_rows():
    app = GridApp()
    async with app.run_test(size=(80, 24)) as pilot:
        grid = app.query_one(DataGrid)
        grid.set_columns([GridColumn("n")])
        grid.append_rows([[str(n)] for n in range(10)])
        grid.focus()
        await pilot.press("space", "down", "space")
        assert grid.marked_rows == [0, 2]
        assert _lines(grid)[1].startswith("●")
        grid.remove_rows(grid.marked_rows)
        assert grid.row_count == 8 and grid.marked_rows == []
        assert [grid.row(n)[0] for n in range(3)] == ["1", "3", "4"]


@pytest.mark.parametrize("text, shown", [
    ("two\nlines", "two↵lines"), ("tab\there", "tab⇥here"), ("bell\x07", "bell·"),
])
def test_control_characters_are_shown_not_obeyed(text, shown):
    assert one_line(text) == shown


async def test_long_and_wide_text_is_cut_to_the_column_with_an_ellipsis():
    app = GridApp()
    async with app.run_test(size=(80, 24)) as pilot:
        grid = app.query_one(DataGrid)
        grid.set_columns([GridColumn("text"), GridColumn("after")])
        grid.append_rows([("日本語" * 30, "end"), ("x" * 500, "end")])
        await pilot.pause()
        first, second = _lines(grid)[1:3]
        assert "…" in first and "…" in second
        # Both rows put the next column at the same place, wide characters or not.
        from rich.cells import cell_len
        assert cell_len(first[:first.index("end")]) == cell_len(second[:second.index("end")])


async def test_columns_added_later_keep_the_rows_and_show_missing_cells_as_null():
    app = GridApp()
    async with app.run_test(size=(80, 24)) as pilot:
        grid = app.query_one(DataGrid)
        grid.set_columns([GridColumn("id"), GridColumn("name")])
        grid.append_rows([("1", "ann"), ("2", "bob")])
        grid.add_columns([GridColumn("joined")])
        grid.append_rows([("9", "late", "2024-01-01")])
        await pilot.pause()
        assert grid.row_count == 3 and [c.name for c in grid.columns] == ["id", "name", "joined"]
        lines = _lines(grid)
        assert "joined" in lines[0]
        assert lines[1].split() == ["1", "ann", "NULL"]  # no cell for the new column
        assert lines[3].split() == ["9", "late", "2024-01-01"]
