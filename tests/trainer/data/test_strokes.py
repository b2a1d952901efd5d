"""Pen strokes drawn as the page draws a canvas stroke (width, caps, anti-aliasing, y axis)."""

from __future__ import annotations

import numpy as np

from trainer.data.strokes import (
    FRAME,
    STROKE_FRACTION,
    RenderConfig,
    draw_strokes,
    place_in_box,
    render_plain,
    render_variant,
    tablet_to_screen,
)

PAGE_WIDTH = FRAME * STROKE_FRACTION  # 112 / 13 = 8.6 frame pixels


def test_a_horizontal_stroke_is_as_wide_as_the_pages_brush() -> None:
    ink = draw_strokes([np.array([[20.0, 56.0], [90.0, 56.0]])], PAGE_WIDTH)
    column = ink[:, 56] / 255.0
    assert abs(column.sum() - PAGE_WIDTH) < 0.3  # coverage adds up to the line width
    assert column.max() == 1.0 and ink.min() == 0.0


def test_edges_are_anti_aliased() -> None:
    ink = draw_strokes([np.array([[20.0, 56.3], [90.0, 56.3]])], PAGE_WIDTH)
    partial = ink[:, 56][(ink[:, 56] > 0) & (ink[:, 56] < 255)]
    assert partial.size >= 2  # grey pixels on both edges, not a hard binary line


def test_round_caps_and_a_tap_leaves_a_disc() -> None:
    ink = draw_strokes([np.array([[56.0, 56.0]])], PAGE_WIDTH)
    covered = (ink / 255.0).sum()
    # a disc of the brush's size; PIL's inclusive ellipse box adds about a supersampled pixel
    # (an eighth of a frame pixel) to its diameter, so the area may run up to 10% over
    disc = np.pi * (PAGE_WIDTH / 2) ** 2
    assert disc * 0.97 < covered < disc * 1.1
    line = draw_strokes([np.array([[30.0, 56.0], [80.0, 56.0]])], PAGE_WIDTH)
    cols = np.flatnonzero(line.max(axis=0) > 0)
    assert cols[0] < 30 - PAGE_WIDTH / 2 + 1 and cols[-1] > 80 + PAGE_WIDTH / 2 - 1


def test_tablet_y_points_up_and_the_screen_y_points_down() -> None:
    # a "7"-like path written on a tablet: top bar at high y, the foot at low y
    seven = [np.array([[0.0, 100.0], [60.0, 100.0], [20.0, 0.0]])]
    placed = place_in_box(tablet_to_screen(seven), 0.8, np.random.default_rng(0))
    ink = draw_strokes(placed, PAGE_WIDTH)
    rows = np.flatnonzero(ink.max(axis=1) > 0)
    top_row_width = (ink[rows[0] + 4] > 0).sum()
    bottom_row_width = (ink[rows[-1] - 4] > 0).sum()
    assert top_row_width > 3 * bottom_row_width  # the bar is at the top of the screen


def test_variants_are_seeded_and_differ_from_each_other() -> None:
    digit = [np.array([[0.0, 0.0], [10.0, 50.0], [20.0, 100.0], [60.0, 100.0]])]
    cfg = RenderConfig()
    a = render_variant(digit, np.random.default_rng(1), cfg)
    b = render_variant(digit, np.random.default_rng(1), cfg)
    c = render_variant(digit, np.random.default_rng(2), cfg)
    assert a is not None and a.shape == (28, 28) and a.dtype == np.uint8
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_plain_render_goes_through_to_mnist() -> None:
    digit = render_plain([np.array([[0.0, 0.0], [0.0, 100.0]])])
    assert digit is not None and digit.max() == 255
    rows = np.flatnonzero(digit.max(axis=1) > 25)
    assert rows[-1] - rows[0] + 1 in (20, 21)  # fitted to MNIST's 20-pixel box
