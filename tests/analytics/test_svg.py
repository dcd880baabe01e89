"""Server-drawn charts: axes people can read, and well-formed SVG whatever the labels say."""

from __future__ import annotations

from xml.etree import ElementTree

import pytest

from knowdesk.analytics import svg

NS = {"svg": "http://www.w3.org/2000/svg"}


@pytest.mark.parametrize(
    ("peak", "ticks"),
    [
        (0, [0, 1]),
        (0.4, [0, 1]),
        (2, [0, 1, 2]),
        (5, [0, 1, 2, 3, 4, 5]),
        (6, [0, 2, 4, 6]),
        (37, [0, 10, 20, 30, 40]),
        (1234, [0, 500, 1000, 1500]),
    ],
)
def test_axis_ticks_are_whole_round_steps(peak: float, ticks: list[float]) -> None:
    assert svg.axis_ticks(peak) == ticks


def test_charts_are_well_formed_and_escape_their_labels() -> None:
    hostile = '<script>alert("x")</script> & 退款'
    line = ElementTree.fromstring(
        svg.line_chart(["11-01", "11-02", hostile], [svg.Series(hostile, [1, 3, 2])], title="t")
    )
    [polyline] = line.findall("svg:polyline", NS)
    ys = [float(point.split(",")[1]) for point in polyline.attrib["points"].split()]
    assert ys[1] < ys[2] < ys[0]  # SVG's y grows downwards: 3 highest, then 2, then 1
    assert hostile in [t.text for t in line.iter(f"{{{NS['svg']}}}text")]
    assert line.find("svg:script", NS) is None

    bars = ElementTree.fromstring(svg.bar_chart(["a", hostile], [4, 2], title=hostile))
    widths = [float(r.attrib["width"]) for r in bars.findall("svg:rect", NS)]
    assert widths[0] == 2 * widths[1]
    spark = ElementTree.fromstring(svg.sparkline([0, 0, 5], title=hostile))
    assert spark.attrib["aria-label"] == hostile
