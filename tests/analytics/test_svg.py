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


def test_chinese_words_get_room_and_lines_keep_their_key() -> None:
    names = ["自助解决", "转人工", "会话"]
    chart = ElementTree.fromstring(
        svg.line_chart(
            ["11-01", "11-02"],
            [svg.Series(name, [1, 2], key=f"k{i}") for i, name in enumerate(names)],
            title="会话",
        )
    )
    assert [p.attrib["data-name"] for p in chart.findall("svg:polyline", NS)] == ["k0", "k1", "k2"]
    keys = [r for r in chart.findall("svg:rect", NS) if r.attrib.get("width") == "10"]
    legend = [t for t in chart.findall("svg:text", NS) if t.text in names]
    # Each legend entry starts after the previous one's words end: a Chinese character is a
    # full em (11 px) wide, where counting it as a Latin letter (7 px) made the entries overlap.
    for words, next_key in zip(legend, keys[1:], strict=False):
        assert float(next_key.attrib["x"]) >= float(words.attrib["x"]) + 11 * len(words.text or "")

    labels = ["知识库里没有可用的答案", "客户要求"]
    bars = ElementTree.fromstring(svg.bar_chart(labels, [3, 1], title="转人工原因", width=580))
    [first, *_] = bars.findall("svg:rect", NS)
    label = next(t for t in bars.findall("svg:text", NS) if t.text == labels[0])
    # The label ends (text-anchor end) left of the bars, with room for all its characters.
    assert 11 * len(labels[0]) <= float(label.attrib["x"]) < float(first.attrib["x"])
