"""WSGI plumbing: mounting the app under BASE_URL whatever the web server says."""
from urllib.parse import unquote_to_bytes


def under_base_url(app, base_url):
    """Route by the path the browser asked for, below `base_url`.

    lighttpd's rewrite setup from the setup manual ("^/torrent" => "/torrent.tfcgi") hands
    the app SCRIPT_NAME=/torrent.tfcgi and a PATH_INFO that means nothing; REQUEST_URI
    holds the real path.  A prefix mount gives the same REQUEST_URI, so it serves both.
    """
    def mounted(environ, start_response):
        uri = environ.get('REQUEST_URI')
        if uri is not None:
            path, question, query = uri.partition('?')
            path = unquote_to_bytes(path.encode('latin-1', 'replace')).decode('latin-1')   # WSGI strings are bytes
            if question:
                environ['QUERY_STRING'] = query     # a rewrite may have dropped it
        else:
            path = environ.get('SCRIPT_NAME', '') + environ.get('PATH_INFO', '')
        if base_url and path != base_url and not path.startswith(base_url + '/'):
            start_response('404 Not Found', [('Content-Type', 'text/plain; charset=utf-8')])
            return [b'Not under %s\n' % base_url.encode('utf-8')]
        environ['SCRIPT_NAME'] = base_url
        environ['PATH_INFO'] = path[len(base_url):]
        return app(environ, start_response)
    return mounted
