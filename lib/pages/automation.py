"""A target's weekly schedule and its override, its rules (with a preview before they are
kept), its events, and their JSON API (model/schedule.py, rules.py, events.py; the worker
runs them).
"""
import datetime
import logging
import time

from werkzeug.exceptions import BadRequest, ServiceUnavailable
from werkzeug.utils import redirect

from lib.pages.base import Pages, whole_number
from lib.store import StoreError
from lib.web import POST, expose
from model import events, rules, schedule, settings
from model.clients.errors import BackendError


log = logging.getLogger('pyrotorrent')


class Schedules(Pages):
    """A target's weekly schedule and its override, its rules (with a preview before they
    are kept), its events, and their JSON API (model/schedule.py, rules.py, events.py; the
    worker runs them).  Viewers look, admins change."""

    @expose('/target/<name>/schedule', 'viewer', endpoint='schedule')
    def on_schedule(self, request, name, status=200, problem=None, grid=None):
        store = self.automation_store(name)
        view = self.schedule_view(store, name)
        if grid is not None:
            view['schedule'] = grid
        return self.target_page(request, 'schedule/grid.html', name, status=status, problem=problem,
                                rows=schedule.grid_rows(view['schedule']), kinds=schedule.KINDS,
                                cell_choices=schedule.CELL_MINUTES, defaults=schedule.DEFAULT_PROFILES,
                                tick_seconds=self.app.config.WORKER_TICK_SECONDS, **view)

    @expose('/target/<name>/schedule', 'admin', POST, endpoint='schedule_save')
    def on_schedule_save(self, request, name):
        form, back = request.form, self.url_for(request, 'schedule', name=name)
        store = self.automation_store(name)
        try:
            if form.get('back'):
                schedule.set_override(store, name, None, self.who(request), time.time(), self.app.time_zone)
                self.tell(request, 'Back to the schedule: the worker applies it within a tick.')
            elif form.get('override'):
                done = schedule.set_override(store, name, form['override'], self.who(request), time.time(),
                                             self.app.time_zone, self.app.desired(name))
                until = datetime.datetime.fromtimestamp(done['until'], self.app.time_zone).strftime(
                    '%Y-%m-%d %H:%M %Z') if done['until'] else 'you go back to the schedule'
                self.tell(request, "Profile '%s' until %s; the worker applies it within a tick." % (done['profile'], until))
            else:
                grid = schedule.validate(_schedule_form(form, schedule.load(store, name)[0]), plain_number_bytes=1024)
                schedule.save(store, name, grid, self.who(request), self.app.desired(name))
                self.tell(request, 'Schedule saved (%s); the worker applies it within a tick.'
                          % ('on' if grid['enabled'] else 'off'))
        except ValueError as exc:
            return self.on_schedule(request, name, status=400, problem='Nothing was changed: %s.' % exc)
        self.push_timetable(request, store, name)
        return redirect(back, 303)

    def push_timetable(self, request, store, name):
        """A schedule that fits the client's own timetable is given to it now (the worker
        checks again every tick)."""
        try:
            window = schedule.sync_timetable(store, self.backend(name), self.who(request))
        except BackendError as exc:
            if request is not None:
                self.tell(request, 'The schedule could not be given to %s now (%s); the worker tries again.'
                          % (name, exc), 'refused')
            return
        if window and request is not None and not request.path.startswith('/api/'):
            self.tell(request, '%s runs this schedule itself (its alternative-speed timetable), even while '
                               'pyroTorrent is down.' % self.backend(name).client)

    @expose('/target/<name>/rules', 'viewer', endpoint='rules')
    def on_rules(self, request, name, status=200, problem=None, preview=None, form=None):
        store = self.automation_store(name)
        kept = rules.load(store, name)
        return self.target_page(request, 'schedule/rules.html', name, status=status, problem=problem,
                                rules=kept, describe=rules.describe, preview=preview, form=form or {},
                                matches=rules.MATCHES, conditions=rules.CONDITIONS, actions=rules.ACTIONS,
                                triggers=events.TRIGGERS,
                                can_delete_data=self.backend(name).can_delete_data)

    @expose('/target/<name>/rules', 'admin', POST, endpoint='rules_save')
    def on_rules_save(self, request, name):
        form, back = request.form, self.url_for(request, 'rules', name=name)
        store = self.automation_store(name)
        kept = rules.load(store, name)
        try:
            if form.get('delete'):
                kept = [r for r in kept if r['name'] != form['delete']]
                rules.save(store, name, kept, self.who(request))
                self.tell(request, "Rule '%s' removed." % form['delete'])
                return redirect(back, 303)
            for state in ('enable', 'disable'):     # the state to set, not a flip: sent twice, the same
                if form.get(state):
                    kept = [dict(r, enabled=state == 'enable') if r['name'] == form[state] else r for r in kept]
                    rules.save(store, name, kept, self.who(request))
                    return redirect(back, 303)
            new = rules.from_form(form)
            context = self.rule_context(name, kept + [new])
            rule = rules.validate(new, context)
            clean = rules.validate_all([r for r in kept if r['name'] != rule['name']] + [rule], context)
        except ValueError as exc:
            return self.on_rules(request, name, status=400, problem='Nothing was changed: %s.' % exc, form=form)
        touched = rules.preview(rule, context.seen, self.clocks(store, name), time.time())
        if form.get('preview'):
            return self.on_rules(request, name, preview={'rule': rule, 'torrents': touched}, form=form)
        rules.save(store, name, clean, self.who(request))
        self.tell(request, "Rule '%s' saved; it would act on %d torrent(s) now, and the worker runs it within a tick."
                  % (rule['name'], len(touched)))
        return redirect(back, 303)

    @expose('/target/<name>/events', 'viewer', endpoint='events')
    def on_events(self, request, name):
        store = self.automation_store(name)
        kind = request.args.get('kind') or None
        if kind is not None and kind not in events.KINDS:
            raise BadRequest("There is no kind of event '%s' (there are: %s)" % (kind, ', '.join(events.KINDS)))
        shown = events.recent(store, name, limit=200, kinds=[kind] if kind else None)
        return self.target_page(request, 'schedule/events.html', name, events=shown, in_words=events.in_words,
                                kinds=events.KINDS, kind=kind, webhook=bool(self.app.config.WEBHOOK_URL),
                                latest=max((e.seq for e in shown), default=0), poll_seconds=self.app.config.EVENTS_SECONDS)

    # -- the API ------------------------------------------------------------------------

    @expose('/api/target/<name>/schedule', 'viewer', endpoint='api_schedule')
    def on_api_schedule(self, request, name):
        return self.json(self.schedule_json(self.automation_store(name), name))

    @expose('/api/target/<name>/schedule', 'admin', POST, endpoint='api_schedule_save')
    def on_api_schedule_save(self, request, name):
        body = request.get_json(silent=True)
        store = self.automation_store(name)
        try:
            if isinstance(body, dict) and set(body) == {'override'}:
                schedule.set_override(store, name, body['override'], self.who(request), time.time(),
                                      self.app.time_zone, self.app.desired(name))
            else:
                schedule.save(store, name, schedule.validate(body), self.who(request), self.app.desired(name))
        except ValueError as exc:
            return self.app.error(request, 400, 'Bad Request', 'Nothing was changed: %s.' % exc, True)
        self.push_timetable(request, store, name)
        return self.json(self.schedule_json(store, name))

    @expose('/api/target/<name>/rules', 'viewer', endpoint='api_rules')
    def on_api_rules(self, request, name):
        store = self.automation_store(name)
        return self.json({'target': name, 'rules': rules.load(store, name)})

    @expose('/api/target/<name>/rules', 'admin', POST, endpoint='api_rules_save')
    def on_api_rules_save(self, request, name):
        body = request.get_json(silent=True)
        store = self.automation_store(name)
        if not isinstance(body, dict) or not isinstance(body.get('rules'), list):
            raise BadRequest('Send a JSON object like {"rules": [{"name":, "match":, "when":, "do":}]}')
        try:
            context = self.rule_context(name, body['rules'])
            clean = rules.validate_all(body['rules'], context)
        except ValueError as exc:
            return self.app.error(request, 400, 'Bad Request', 'Nothing was changed: %s.' % exc, True)
        rules.save(store, name, clean, self.who(request))
        clocks = self.clocks(store, name)
        return self.json({'target': name, 'rules': rules.load(store, name), 'would_touch': {
            r['name']: [t.hash for t in rules.preview(r, context.seen, clocks, time.time())] for r in clean}})

    @expose('/api/target/<name>/rules/preview', 'admin', POST, endpoint='api_rules_preview')
    def on_api_rules_preview(self, request, name):
        body = request.get_json(silent=True)
        store = self.automation_store(name)
        try:
            context = self.rule_context(name, rules.load(store, name) + [body])
            rule = rules.validate(body, context)
        except ValueError as exc:
            return self.app.error(request, 400, 'Bad Request', str(exc), True)
        touched = rules.preview(rule, context.seen, self.clocks(store, name), time.time())
        return self.json({'target': name, 'rule': rule, 'describe': rules.describe(rule),
                          'torrents': [{'hash': t.hash, 'name': t.name, 'label': t.label, 'ratio': t.ratio,
                                        'state': t.state} for t in touched]})

    @expose('/api/target/<name>/events', 'viewer', endpoint='api_events')
    def on_api_events(self, request, name):
        store = self.automation_store(name)
        since = whole_number(request.args, 'since', 0, 0, 10 ** 15)
        limit = whole_number(request.args, 'limit', 100, 1, 1000)
        kinds = [k for k in request.args.getlist('kind') if k]
        unknown = [k for k in kinds if k not in events.KINDS]
        if unknown:
            raise BadRequest("There is no kind of event '%s' (there are: %s)" % (unknown[0], ', '.join(events.KINDS)))
        found = events.recent(store, name, since=since, limit=limit, kinds=kinds or None)
        def link(e):
            if e.subject and e.kind != 'removed':
                return self.app.url_for(request, 'torrent', name=name, info_hash=e.subject)
            return None
        return self.json({'target': name, 'latest': max([e.seq for e in found] + [since]), 'events': [
            dict(e.as_dict(), text=events.in_words(e), kind_title=events.KINDS[e.kind], link=link(e))
            for e in found]})

    # -- shared -------------------------------------------------------------------------

    def automation_store(self, name):
        store = self.app.store()
        if isinstance(store, StoreError):
            raise ServiceUnavailable('Schedules, rules and events of %s are unavailable: %s' % (name, store))
        return store

    @staticmethod
    def who(request):
        return request.user.name or 'local'

    @staticmethod
    def clocks(store, name):
        return {item: data for item, (data, _) in store.seen(name).items()}

    def rule_context(self, name, given):
        backend = self.backend(name)
        return rules.Context(backend.snapshot(), groups=self.app.speed_groups(name),
                             priorities=backend.CAPABILITIES.priorities, can_delete_data=backend.can_delete_data,
                             labels_set=rules.labels_set_by(given))

    def schedule_view(self, store, name):
        grid, override = schedule.load(store, name)
        now = time.time()
        force = schedule.in_force(grid, override, now, self.app.time_zone)
        applied = store.values(name, schedule.KIND).get('applied')
        pushed = store.values(name, schedule.KIND).get('timetable')
        return {'schedule': grid, 'force': force, 'now': now, 'applied': applied.value if applied else None,
                'run_by': schedule.runner(store, name),
                'timetable': pushed.value if pushed is not None else None,
                'layer': settings.current_layer(store, name), 'held': store.held(name),
                'time_zone': str(self.app.time_zone), 'heartbeat': self.app.heartbeat(),
                'zoned': lambda t: datetime.datetime.fromtimestamp(t, self.app.time_zone).strftime('%Y-%m-%d %H:%M %Z')}

    def schedule_json(self, store, name):
        view = self.schedule_view(store, name)
        grid = dict(view['schedule'])
        view.pop('zoned')
        return {'target': name, 'schedule': grid, 'in_force': view['force'].as_dict(view['now']),
                'applied': view['applied'], 'held': sorted(view['held']), 'time_zone': view['time_zone'],
                'run_by': view['run_by'], 'timetable': view['timetable']}


def _schedule_form(form, old):
    """The schedule page's form as a schedule to validate: one select a cell (cell_N), the
    profiles kept (minus those ticked to remove), a new limited one, and the cells' size
    (a new size keeps the week as it was, in the new cells)."""
    raw = form.get('cell_minutes', '')
    minutes = int(raw) if raw.isdigit() else old['cell_minutes']
    profiles = {n: p for n, p in old['profiles'].items() if not form.get('remove_profile_' + n)}
    new = form.get('new_profile', '').strip(' ')      # names.check() refuses the rest of white space
    if new:
        profiles[new] = {'kind': 'limited', 'down_limit': form.get('new_down', '0').strip() or '0',
                         'up_limit': form.get('new_up', '0').strip() or '0'}
    if minutes != old['cell_minutes'] and minutes in schedule.CELL_MINUTES:
        cells = schedule.resized(old, minutes)['cells']
    else:
        cells = [form.get('cell_%d' % i, name) for i, name in enumerate(old['cells'])]
    return {'enabled': form.get('enabled') == 'on', 'cell_minutes': minutes, 'profiles': profiles, 'cells': cells}

