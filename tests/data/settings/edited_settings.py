# ruff: noqa
# fmt: off
"""
Shared settings

Edited for the production Skyline at example.org.
"""

import os

SKYLINE_DIR = '/opt/skyline'
"""
:var SKYLINE_DIR: Not a Skyline setting: an operator's helper for the paths below.
"""

LOG_PATH = '/var/log/skyline'
"""
:var LOG_PATH: The Skyline logs directory. Do not include a trailing slash.
:vartype LOG_PATH: str
"""

# Moved the logs to the big disk.
LOG_PATH = os.path.join('/data', 'skyline', 'logs')

MIRAGE_CHECK_PATH = os.path.join(SKYLINE_DIR, 'mirage', 'check')

GRAPHITE_HOST = 'graphite.example.org'
"""
:var GRAPHITE_HOST: If you have a Graphite host set up, set this variable to get
    graphs on Skyline and Horizon.
:vartype GRAPHITE_HOST: str
"""

GRAPHITE_PROTOCOL = 'https'

GRAPHITE_PORT = '8443'

CARBON_HOST = GRAPHITE_HOST

SERVER_METRICS_NAME = 'skyline-prod-1'

CANARY_METRIC = 'skyline.horizon.%s.worker.metrics_received' % SERVER_METRICS_NAME

FLUX_IP = '127.0.0.1'
FLUX_PORT = 8000
FLUX_TORNADO_URL = 'http://%s:%s/tornado' % (FLUX_IP, str(FLUX_PORT))

SLACK_ENABLED = True
"""
:var SLACK_ENABLED: Enables the Slack alerter
:vartype SLACK_ENABLED: boolean
"""

ALERTS = (
    ('skyline', 'smtp', 1800),
    ('stats.web.*.requests', 'smtp', 900, 168),
    ('carbon', 'smtp', 3600),
    # NOTE: all other alert tuples MUST be declared AFTER smtp alert tuples
    ('skyline', 'slack', 1800),
    ('stats.web.*.requests', 'slack', 900),
    ('carbon', 'syslog', 1),
)
"""
:var ALERTS: This enables analyzer alerting [USER_DEFINED]
:vartype ALERTS: tuples
"""

SLACK_OPTS = {
    # Bot User OAuth Access Token
    'bot_user_oauth_access_token': 'xoxb-1111111111-2222222222222-AbCdEfGhIjKlMnOpQrStUvWx',
    # list of slack channels to notify about each anomaly
    'channels': {
        'skyline': ('#skyline',),
        # A one element "tuple" without the comma is a plain string: one channel.
        'stats.web.*.requests': ('#web-ops'),
        'carbon': ['#graphite', '#skyline'],
    },
    'channel_ids': {
        '#skyline': 'C0SKYLINE1',
        '#web-ops': 'C0WEBOPS12',
        '#graphite': 'YOUR_slack_other_channel_id',
    },
    'icon_emoji': ':skyline:',
    'default_channel': '#skyline',
    'default_channel_id': 'C0SKYLINE1',
    'thread_updates': True,
    'message_on_training_data_viewed': False,
    'message_on_training_data_viewed_reaction_emoji': 'eyes',
    'message_on_features_profile_created': True,
    'message_on_features_profile_created_reaction_emoji': '+1',
    'message_on_features_profile_learnt': True,
    'message_on_features_profile_learnt_reaction_emoji': 'heavy_check_mark',
    'message_on_features_profile_disabled': True,
    'message_on_features_profile_disabled_reaction_emoji': 'x',
    'message_on_validated_features_profiles': False,
}
"""
:var SLACK_OPTS: Your slack settings. [USER_DEFINED]
:vartype SLACK_OPTS: dictionary
"""

SKYLINE_URL = 'https://skyline.example.org/'
"""
:var SKYLINE_URL: The http or https URL (and port if required) to access your
    Skyline on (no trailing slash). [USER_DEFINED]
:vartype SKYLINE_URL: str
"""
