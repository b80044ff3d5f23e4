"""Error pages lead somewhere, and the API's wording is for an API client (issue 16.8)."""
import json

from tests import webapp


def test_an_unknown_url_gets_a_pyrotorrent_page_with_a_way_back(swarm):
    web = webapp.client({'seeder': swarm.seeder.url})
    answer = web.get('/no/such/page')
    page = answer.get_data(as_text=True)
    assert answer.status_code == 404 and '<!DOCTYPE html>' in page and 'All targets' in page
    answer = web.get('/target/seeder/torrent/%s/' % ('AB' * 20))
    page = answer.get_data(as_text=True)
    assert answer.status_code == 404 and 'Back to the torrents of seeder' in page
    assert 'href="/target/seeder/"' in page and 'href="/"' in page


def test_an_api_call_without_its_token_is_told_which_header(swarm):
    web = webapp.client({'seeder': swarm.seeder.url})
    answer = web.post('/api/target/seeder/action', data=json.dumps({'action': 'stop', 'hashes': []}),
                      content_type='application/json')
    message = answer.json['error']['message']
    assert answer.status_code == 403 and 'X-CSRF-Token' in message and '/api/session' in message
    assert 'Reload the page' not in message
    answer = web.post('/api/target/seeder/action', data=json.dumps({'action': 'explode', 'hashes': []}),
                      content_type='application/json',
                      headers={'X-CSRF-Token': web.get('/api/session').json['csrf_token']})
    message = answer.json['error']['message']
    assert answer.status_code == 400 and 'erase, erase' not in message and message.count('erase') == 1
