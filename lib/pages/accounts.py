"""Logging in and out, and who the API's caller is.
"""
import logging

from werkzeug.utils import redirect

from lib import auth
from lib.pages.base import Pages, local_path
from lib.web import GET, POST, PUBLIC, expose


log = logging.getLogger('pyrotorrent')


class Accounts(Pages):
    """Logging in and out; who the API's caller is."""

    @expose('/login', PUBLIC, GET + POST)
    def on_login(self, request):
        next_url = local_path(request.values.get('next'), request.script_root)
        config, throttle = self.app.config, self.app.throttle
        if not config.users:
            return redirect(next_url, 303)
        if request.method != 'POST':
            session = request.environ['beaker.session']
            return self.render('login.html', request, next_url=next_url,
                               ended=hasattr(session, 'ended') and session.ended())
        name, password = request.form.get('name', ''), request.form.get('password', '')
        keys = throttle.keys(name, request.remote_addr)
        wait = throttle.begin(keys)     # counted as a failure before the slow hash runs
        if wait > 0:
            response = self.render('login.html', request, status=429, next_url=next_url, name=name,
                                   problem='Too many failed logins for this name or from this address: '
                                           'try again in %d s.' % (wait + 0.999))
            response.headers['Retry-After'] = str(int(wait + 0.999))
            return response
        user = auth.check_login(config.users, name, password)
        if user is None:
            return self.render('login.html', request, status=401, next_url=next_url, name=name,
                               problem='That name and password do not match.')
        throttle.succeeded(keys)
        session = request.environ['beaker.session']
        session.invalidate()                # a new id: a session id planted before login is worth nothing
        session['user'], session['stamp'] = user.name, user.stamp()
        session.save()
        return redirect(next_url, 303)

    @expose('/logout', PUBLIC, POST)
    def on_logout(self, request):
        session = request.environ['beaker.session']
        session.delete()                    # the stored session is emptied and the cookie expires
        return redirect(self.url_for(request, 'login' if self.app.config.users else 'index'), 303)

    @expose('/api/session', 'viewer')
    def on_api_session(self, request):
        user = request.user
        return self.json({'user': user.name or None, 'role': user.role,
                          'targets': self.app.visible_targets(user),
                          'csrf_token': auth.csrf_token(request.environ['beaker.session']),
                          'csrf_header': auth.CSRF_HEADER})
