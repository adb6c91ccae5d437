"""The histogram's drawing: heights in eighths, missing never drawn as zero, stacks, side by
side windows, labels that fit, the cursor."""

from __future__ import annotations

from rich.text import Text

from ews_tui.ui.widgets.histogram import CURSOR_STYLE, MISSING, Chart, Series, draw


def plain(lines: list[Text]) -> list[str]:
    return [line.plain for line in lines]


def test_heights_scale_and_labels() -> None:
    chart = Chart(labels=["a", "b", "c"], series=[Series("s", [4.0, 2.0, 0.0])])
    lines = plain(draw(chart, 9, 6))
    assert lines[0] == "4        "  # the scale: what the full height is worth
    assert [line[0] for line in lines[1:5]] == ["█"] * 4
    assert [line[3] for line in lines[1:5]] == [" ", " ", "█", "█"]
    assert all(line[6] == " " for line in lines[1:5])  # zero: nothing drawn
    assert lines[5].startswith("a  b  c")


def test_missing_is_shaded_never_empty() -> None:
    chart = Chart(labels=["a", "b"], series=[Series("s", [None, 0.0])])
    lines = plain(draw(chart, 6, 5))
    assert [line[0] for line in lines[1:4]] == [MISSING] * 3
    assert [line[3] for line in lines[1:4]] == [" "] * 3


def test_future_periods_are_blank() -> None:
    chart = Chart(labels=["a", "b"], series=[Series("s", [1.0, None])], future_from=1)
    lines = plain(draw(chart, 6, 5))
    assert [line[3] for line in lines[1:4]] == [" "] * 3


def test_eighths_of_a_row() -> None:
    chart = Chart(labels=["a", "b"], series=[Series("s", [8.0, 1.0])])
    lines = plain(draw(chart, 6, 3))  # one row of bars: 8 eighths
    assert lines[1][:4] == "██ ▁"


def test_stacked_series_share_a_bar_and_mark_a_missing_part() -> None:
    chart = Chart(
        labels=["a", "b"],
        series=[Series("x", [1.0, 1.0], "cyan"), Series("y", [1.0, None], "yellow")],
    )
    lines = draw(chart, 6, 6)
    column = [line.plain[0] for line in lines[1:5]]
    assert column == ["█"] * 4
    colours = [line.spans[0].style.color.name for line in lines[1:5]]  # type: ignore[union-attr]
    assert colours == ["yellow", "yellow", "cyan", "cyan"]
    second = [line.plain[3] for line in lines[1:5]]
    assert second == [" ", MISSING, "█", "█"]  # y unknown: a mark above x


def test_side_by_side_windows_around_the_cursor() -> None:
    series = [Series(n, [float(i) for i in range(24)]) for n in "xyz"]
    chart = Chart(labels=[f"{i:02d}" for i in range(24)], series=series, stacked=False)
    lines = draw(chart, 40, 6, cursor=20)
    labels = lines[-1].plain
    assert labels.startswith("‹") and not labels.rstrip().endswith("›")  # the last bars
    assert "20" in labels and "23" in labels and "00" not in labels
    cursor = next(span for span in lines[-1].spans if span.style == CURSOR_STYLE)
    assert labels[cursor.start : cursor.end] == "20"


def test_labels_that_do_not_fit_are_skipped() -> None:
    chart = Chart(labels=[str(d) for d in range(1, 32)], series=[Series("s", [1.0] * 31)])
    labels = draw(chart, 62, 4)[-1].plain
    assert labels.split() == [str(d) for d in range(1, 10)] + [str(d) for d in range(10, 32, 2)]
