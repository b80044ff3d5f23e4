"""STALLED_SECONDS: how long a download may receive nothing before it counts as stalled."""
import pytest

from lib import config
from model import events
from model.tasks import TargetTask, tasks_for

TARGET = "targets = {'a': {'url': 'scgi://127.0.0.1:1'}}\n"


def write(tmp_path, text):
    path = tmp_path / 'config.py'
    path.write_text(text)
    return str(path)


def test_the_default_is_five_minutes_and_a_number_in_range_is_taken(tmp_path):
    assert config.load(write(tmp_path, TARGET)).STALLED_SECONDS == events.STALLED_AFTER == 300.0
    assert config.load(write(tmp_path, 'STALLED_SECONDS = 60\n' + TARGET)).STALLED_SECONDS == 60.0


@pytest.mark.parametrize('value', ['0', '29', '86401', "'1m'", 'True', 'None'])
def test_a_bad_value_is_one_line_naming_the_key_and_the_range(tmp_path, value):
    with pytest.raises(config.ConfigError) as info:
        config.load(write(tmp_path, 'STALLED_SECONDS = %s\n' % value + TARGET))
    message = str(info.value)
    assert '\n' not in message and 'STALLED_SECONDS' in message and 'from 30 to 86400' in message


def test_the_worker_hands_it_to_every_target_task():
    tasks = tasks_for(None, {'a': object(), 'b': object()}, stalled_after=60.0)
    assert [t.run.stalled_after for t in tasks if isinstance(t.run, TargetTask)] == [60.0, 60.0]
