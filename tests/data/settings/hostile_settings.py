# ruff: noqa
# fmt: off
"""
Shared settings, with code that must never run when the sidecar reads them.

Each marker file below is created only if this module is executed.
"""

import os
import subprocess

os.system('touch /tmp/skyline-sidecar-test-pwned-system')

open('/tmp/skyline-sidecar-test-pwned-open', 'w').write('pwned')

LOG_PATH = '/var/log/skyline'

if os.path.exists('/etc'):
    LOG_PATH = open('/tmp/skyline-sidecar-test-pwned-if', 'w').name

try:
    from local_settings import *  # noqa: F403
except ImportError:
    subprocess.call(['touch', '/tmp/skyline-sidecar-test-pwned-try'])


def _hostname():
    open('/tmp/skyline-sidecar-test-pwned-def', 'w').close()
    return 'skyline-1'


SERVER_METRICS_NAME = _hostname()

GRAPHITE_HOST = __import__('os').system('touch /tmp/skyline-sidecar-test-pwned-import') or 'x'

SKYLINE_URL = 'https://skyline.example.net'

SLACK_OPTS = {
    'bot_user_oauth_access_token': os.environ.get('SKYLINE_SLACK_TOKEN', ''),
    'channels': {
        'skyline': ('#skyline',),
    },
    'default_channel': '#skyline',
    'thread_updates': eval("open('/tmp/skyline-sidecar-test-pwned-eval', 'w') and True"),
}

ALERTS = (
    ('skyline', 'slack', 1800),
)
