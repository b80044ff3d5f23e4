"""The page base every area shares (Pages: a target's backend, rendering, JSON, messages,
links) and the small helpers their handlers and form parsers use.
"""
import logging

from werkzeug.exceptions import BadRequest

from lib import svgchart
from lib.format import size as format_size
from lib.web import Area


log = logging.getLogger('pyrotorrent')


class Pages(Area):
    """What every area of pyroTorrent's pages uses: its targets' backends, and the core's
    rendering, JSON, messages and links."""

    def backend(self, name):
        return self.app.backends[name]      # authorize() has checked the name

    def render(self, template, request, status=200, **context):
        return self.app.render(template, request, status=status, **context)

    def json(self, data, status=200):
        return self.app.json(data, status)

    def tell(self, request, text, kind='done'):
        self.app.tell(request, text, kind)

    def url_for(self, request, endpoint, **values):
        return self.app.url_for(request, endpoint, **values)

    def target_page(self, request, template, name, backend=None, **context):
        """A page about one target: its name, URL and what its client can do come along."""
        backend = backend or self.backend(name)
        if 'glance' not in context:         # (the stats page brings its own)
            context['glance'] = self.app.stats_glance([name]).get(name)
        context.setdefault('chart_svg', chart_svg)
        return self.render(template, request, target=name, url=backend.url, caps=backend.CAPABILITIES,
                           client=backend.client, speed_groups=self.app.speed_groups(name), **context)

    def back_to(self, request, values, name):
        """Where a form's POST returns: its 'next' (a path of this site only), else the list."""
        if values.get('next'):
            return local_path(values.get('next'), request.script_root)
        return self.url_for(request, 'target', name=name)


def chart_svg(chart, direction, small=False):
    """The SVG of one direction of a Chart (a template helper)."""
    values = [getattr(s, direction) if s.sampled else None for s in chart.slots]
    peak = max([v for v in values if v] or [0])
    title = '%s, last %s' % ('received' if direction == 'down' else 'sent', chart.range)
    return svgchart.bars(values, [s.gap for s in chart.slots], title=title, kind=direction, small=small,
                         top_label=format_size(peak) if peak else '')


def torrents_in_words(count):
    return '%d torrent%s' % (count, '' if count == 1 else 's')


def either(words):
    """'a, b or c'."""
    words = list(words)
    return ', '.join(words[:-1]) + ' or ' + words[-1] if len(words) > 1 else ''.join(words)


def has_control(text):
    return any(ord(c) < 32 or ord(c) == 127 for c in text or '')


def local_path(target, script_root):
    """Where to go after login: a path of this site only (never //host or a scheme)."""
    home = script_root + '/'
    if not target or not target.startswith(home) or target.startswith('//') or '\\' in target:
        return home
    if any(ord(c) < 32 for c in target):
        return home
    return target


def whole_number(args, key, default, low, high):
    raw = args.get(key)
    if raw is None or raw == '':
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest("%s must be a whole number, not '%s'" % (key, raw)) from None
    if not low <= value <= high:
        raise BadRequest('%s must be from %d to %d, not %d' % (key, low, high, value))
    return value
