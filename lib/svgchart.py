"""Bar charts as inline SVG, drawn by the server: no script, no style attribute (the strict
Content-Security-Policy stays), only geometry and classes that static/style.css colours.

    bars([3, 0, None, 7], gaps=[False, False, True, False], title='down, last hour',
         top_label='7 B', kind='down')  -> Markup('<svg ...>')

A value of None is "no data" (nothing drawn); a gap slot gets a hatched band behind it.
Each bar scales to the chart's own largest value, so a small upload drawn in its own chart
is never flattened by a big download.  Nothing here knows torrents.
"""
from markupsafe import Markup, escape

WIDTH, HEIGHT, TOP = 600, 120, 14      # viewBox units; TOP: room for the scale's label


def bars(values, gaps=(), title='', top_label='', kind='down', width=WIDTH, height=HEIGHT, small=False):
    """An <svg> of one bar a value, left to right (oldest first)."""
    n = max(1, len(values))
    top = 0 if small else TOP
    peak = max([v for v in values if v] or [0])
    slot = width / n
    parts = ['<svg class="chart chart-%s%s" viewBox="0 0 %d %d" preserveAspectRatio="none" role="img" '
             'aria-label="%s">' % (escape(kind), ' chart-small' if small else '', width, height, escape(title)),
             '<title>%s</title>' % escape(title)]
    for i, gap in enumerate(gaps):
        if gap:
            parts.append('<rect class="gap" x="%.2f" y="0" width="%.2f" height="%d"/>' % (i * slot, slot, height))
    parts.append('<line class="axis" x1="0" y1="%d" x2="%d" y2="%d"/>' % (height - 0.5, width, height - 0.5))
    for i, value in enumerate(values):
        if not value or not peak:
            continue
        h = max(1.0, (height - top) * value / peak)
        parts.append('<rect class="bar" x="%.2f" y="%.2f" width="%.2f" height="%.2f"/>'
                     % (i * slot + slot * 0.1, height - h, slot * 0.8, h))
    if top_label and not small:
        parts.append('<text class="scale" x="2" y="11">%s</text>' % escape(top_label))
    parts.append('</svg>')
    return Markup(''.join(parts))
