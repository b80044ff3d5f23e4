"""A target's settings page, the header's quick limits and alternative-speed switch, and
their JSON API (model/settings.py keeps them; the worker puts them back).
"""
import logging
import types

from werkzeug.exceptions import BadRequest, Conflict, ServiceUnavailable
from werkzeug.utils import redirect

from lib.format import FILTERS
from lib.pages.base import Pages
from lib.store import StoreError
from lib.web import POST, expose
from model import settings
from model.clients.errors import BackendError, NotFound


log = logging.getLogger('pyrotorrent')


class Settings(Pages):
    """A target's settings that pyroTorrent keeps and re-applies (model/settings.py), the
    header's quick limits, and their JSON API."""

    @expose('/target/<name>/settings', 'viewer', endpoint='settings')
    def on_settings(self, request, name, status=200, problem=None, errors=None):
        backend = self.backend(name)
        if not backend.CAPABILITIES.settings_write:
            raise NotFound("pyroTorrent cannot read or change the settings of %s '%s' yet"
                           % (backend.client, name))
        header = None if self.app.is_refresh(request) else self.about(backend)
        store = self.app.store()
        if isinstance(store, StoreError):
            return self.target_page(request, 'settings/page.html', name, status=503, store_error=str(store),
                                    header=header)
        if self.app.is_refresh(request):    # one round trip, shared by its viewers
            (fields, groups, live, restarted), _ = self.app.single_flight.get(
                (name, 'settings'), lambda: settings.view(store, backend), keep=self.app.live_keep)
        else:
            fields, groups, live, restarted = settings.view(store, backend)
        caps = backend.CAPABILITIES
        return self.target_page(request, 'settings/page.html', name, status=status, fields=fields,
                                header=header,
                                groups=groups, live=live, restarted=restarted, problem=problem,
                                errors=errors or {}, presets=self.presets(backend),
                                has_groups='groups' in caps.settings_write, alt_native=caps.alt_native,
                                rate_unit=settings.unit_words(caps.rate_unit),
                                heartbeat=self.app.heartbeat())

    @staticmethod
    def about(backend):
        """The target's Header (versions, folder, rates) in one round trip, for the page's
        "about" and the top bar; None when the client cannot give it (the page shows the rest)."""
        try:
            try:
                return backend.torrent_rows([], ['main'])[0]
            except NotImplementedError:         # a client without it: its versions at least
                version = backend.version()
                return types.SimpleNamespace(client_version=version[0], library_version=version[1],
                                             download_directory='', free_space=None)
        except BackendError as exc:
            log.warning('the header of %s: %s', backend.name, exc)
            return None

    @expose('/target/<name>/settings', 'admin', POST, endpoint='settings_save')
    def on_settings_save(self, request, name):
        form, back = request.form, self.url_for(request, 'settings', name=name)
        if form.get('keep'):
            self.keep(request, name, [form['keep']])
            return redirect(back, 303)
        changes = {} if form.get('apply') else _settings_form(form, self.app.speed_groups(name))
        clean, errors, notes = self.validate(name, changes, plain_number_bytes=1024)
        if errors:
            return self.on_settings(request, name, status=400, errors=errors,
                                    problem='Nothing was changed: ' + settings.in_words(errors) + '.')
        self.tell_report(request, name, self.change(name, clean, request, everything=bool(form.get('apply')),
                                                    notes=notes))
        return redirect(back, 303)

    @expose('/target/<name>/limits', 'user', POST)
    def on_quick_limits(self, request, name):
        """The header's ↓/↑ limits and the alternative speeds switch, from any page."""
        form = request.form
        changes = {}
        alt = self.app.desired(name).get('alt_enabled', False)
        for key in ('down_limit', 'up_limit'):
            if form.get(key, '').strip():
                changes[('alt_' if alt else '') + key] = form[key]
        if form.get('alt_enabled') in ('on', 'off'):
            changes['alt_enabled'] = form['alt_enabled']
        clean, errors, notes = self.validate(name, changes, plain_number_bytes=1024)
        if errors:
            raise BadRequest('Nothing was changed on %s: %s.' % (name, settings.in_words(errors)))
        if clean:
            self.tell_report(request, name, self.change(name, clean, request, notes=notes))
        return redirect(self.back_to(request, form, name), 303)

    @expose('/api/target/<name>/settings', 'viewer', endpoint='api_settings')
    def on_api_settings(self, request, name):
        return self.json(self.as_json(name))

    @expose('/api/target/<name>/settings', 'admin', POST, endpoint='api_settings_save')
    def on_api_settings_save(self, request, name):
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise BadRequest('Send a JSON object of settings, like {"down_limit": 512000, "encryption": "preferred"}')
        keep, apply_all = body.pop('keep_live', None), body.pop('apply', False) is True
        if keep is not None:
            if not isinstance(keep, list):
                raise BadRequest('keep_live is a list of field names')
            self.keep(request, name, keep)
            return self.json(dict(self.as_json(name), applied={}, refused={}, notes=[]))
        clean, errors, notes = self.validate(name, body)
        if errors:
            return self.app.error(request, 400, 'Bad Request', 'Nothing was changed: %s.' % settings.in_words(errors),
                                  True, details={'fields': errors})
        report = self.change(name, clean, request, everything=apply_all or None, notes=notes)
        return self.json(dict(self.as_json(name), **report.as_dict()))

    # -- shared by the page, the header and the API ------------------------------------

    def validate(self, name, changes, plain_number_bytes=1):
        """(clean, errors, notes): the rates rounded to what the target's client keeps
        (Capabilities.rate_unit), a note for each one rounded."""
        notes = []
        backend = self.backend(name)
        clean, errors = settings.validate(changes, plain_number_bytes=plain_number_bytes,
                                          unit=backend.CAPABILITIES.rate_unit, notes=notes,
                                          preset_of=backend.encryption_preset)
        return clean, errors, notes

    def change(self, name, clean, request, everything=None, notes=()):
        store = self.app.store()
        if isinstance(store, StoreError):
            raise ServiceUnavailable('Settings of %s cannot be kept: %s' % (name, store))
        backend = self.backend(name)
        if not backend.CAPABILITIES.settings_write:
            raise BadRequest('%s has no settings pyroTorrent can set' % backend.client)
        try:
            report = settings.apply(store, backend, clean, request.user.name or 'local', everything=everything)
        except settings.Busy as exc:
            raise Conflict('Nothing was changed: %s.' % exc) from None
        report.notes[:0] = list(notes)
        return report

    def keep(self, request, name, fields):
        store = self.app.store()
        if isinstance(store, StoreError):
            raise ServiceUnavailable('Settings of %s cannot be kept: %s' % (name, store))
        try:
            kept = settings.keep_live(store, self.backend(name), fields, request.user.name or 'local')
        except ValueError as exc:
            raise BadRequest(str(exc)) from None
        except settings.Busy as exc:
            raise Conflict('Nothing was changed: %s.' % exc) from None
        self.tell(request, 'pyroTorrent now keeps %s\'s value of %s.' % (self.backend(name).client, ', '.join(kept)))

    def tell_report(self, request, name, report):
        if report.applied:
            self.tell(request, '%s: %s.' % (name, '; '.join(_in_words(k, v) for k, v in report.applied.items())))
        for note in report.notes:
            self.tell(request, note)
        for field, why in report.refused.items():
            self.tell(request, '%s of %s not changed: %s' % (settings.LABELS.get(field, field), name, why), 'refused')

    @staticmethod
    def presets(backend):
        """{preset: (the client's own values for it, what it does)}."""
        return {k: (backend.ENCRYPTION_VALUES.get(k, ()), e) for k, e in settings.ENCRYPTION.items()}

    def as_json(self, name):
        store = self.app.store()
        if isinstance(store, StoreError):
            raise ServiceUnavailable('Settings of %s are unavailable: %s' % (name, store))
        backend = self.backend(name)
        fields, groups, live, restarted = settings.view(store, backend)
        beat = self.app.heartbeat()
        return {
            'target': name,
            'settings': {f.name: f.desired for f in fields},
            'live': {f.name: f.live for f in fields},
            'set_at': {f.name: f.set_at for f in fields if f.set_at},
            'drift': [f.name for f in fields if f.drift] + ['groups.' + g for g, v in groups.items() if v['drift']],
            'write_only': [f.name for f in fields if not f.readable and f.name != 'alt_enabled'],
            'groups': groups,
            'encryption_presets': {k: {'flags': list(own), 'effect': e} for k, (own, e) in self.presets(backend).items()},
            'restarted_since_applied': restarted,
            'worker': None if beat is None else {'ticked_at': beat.ticked_at, 'host': beat.host, 'pid': beat.pid,
                                                 'recent': beat.recent()},
        }


def _settings_form(form, groups):
    """The settings page's fields as changes: an empty field changes nothing."""
    changes = {}
    for field in settings.RATE_FIELDS + tuple(settings.COUNT_FIELDS):
        if form.get(field, '').strip():
            changes[field] = form[field]
    if form.get('alt_enabled') in ('on', 'off'):
        changes['alt_enabled'] = form['alt_enabled']
    if form.get('encryption'):
        changes['encryption'] = form['encryption']
    edited = {}
    for group in groups:
        if form.get('remove_' + group):
            continue
        edited[group] = {'down_limit': form.get('group_down_' + group, '0').strip() or '0',
                         'up_limit': form.get('group_up_' + group, '0').strip() or '0'}
    new = form.get('new_group', '').strip(' ')        # names.check() refuses the rest of white space
    if new:
        edited[new] = {'down_limit': form.get('new_group_down', '0').strip() or '0',
                       'up_limit': form.get('new_group_up', '0').strip() or '0'}
    if edited or groups:
        changes['groups'] = edited
    return changes


def _in_words(field, value):
    """'download limit now 500.0 KiB/s', 'alternative speeds on': a change as a person says it."""
    label = settings.LABELS.get(field, field.replace('_', ' '))
    if field == 'alt_enabled':
        return 'alternative speeds %s' % ('on' if value else 'off')
    if field in settings.RATE_FIELDS:
        return '%s now %s' % (label.lower(), FILTERS['limit'](value))
    if field == 'groups':
        return 'speed groups now %s' % (', '.join(sorted(value)) or 'none')
    return '%s now %s' % (label.lower(), value)
