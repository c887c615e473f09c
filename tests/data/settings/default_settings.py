# ruff: noqa
# fmt: off
"""
Shared settings

IMPORTANT NOTE:

These settings are described with docstrings for the purpose of automated
documentation.  You may find reading some of the docstrings easier to understand
or read in the documentation itself.

http://earthgecko-skyline.readthedocs.io/en/latest/skyline.html#module-settings

"""

REDIS_SOCKET_PATH = '/tmp/redis.sock'
"""
:var REDIS_SOCKET_PATH: The path for the Redis unix socket
:vartype REDIS_SOCKET_PATH: str
"""

# REDIS_PASSWORD = 'DO.PLEASE.set.A.VERY.VERY.LONG.REDIS.password'
REDIS_PASSWORD = None
"""
:var REDIS_PASSWORD: The password for Redis.
:vartype REDIS_PASSWORD: str
"""

LOG_PATH = '/var/log/skyline'
"""
:var LOG_PATH: The Skyline logs directory. Do not include a trailing slash.
:vartype LOG_PATH: str
"""

FULL_DURATION = 86400
"""
:var FULL_DURATION: This is the rolling duration that will be stored in Redis.
:vartype FULL_DURATION: str
"""

GRAPHITE_HOST = 'YOUR_GRAPHITE_HOST.example.com'
"""
:var GRAPHITE_HOST: If you have a Graphite host set up, set this variable to get
    graphs on Skyline and Horizon. Don't include http:// since this can be used
    for CARBON_HOST as well.
:vartype GRAPHITE_HOST: str
"""

GRAPHITE_PROTOCOL = 'http'
"""
:var GRAPHITE_PROTOCOL: Graphite host protocol - http or https
:vartype GRAPHITE_PROTOCOL: str
"""

GRAPHITE_PORT = '80'
"""
:var GRAPHITE_PORT: Graphite host port - for a specific port if graphite runs on
    a port other than 80, e.g. '8888'
:vartype GRAPHITE_PORT: str
"""

GRAPHITE_RENDER_URI = 'render'

TARGET_HOURS = '7'

GRAPH_URL = GRAPHITE_PROTOCOL + '://' + GRAPHITE_HOST + ':' + GRAPHITE_PORT + '/' + GRAPHITE_RENDER_URI + '?width=1400&from=-' + TARGET_HOURS + 'hour&target='
"""
:var GRAPH_URL: The graphite URL for alert graphs will be appended with the
    relevant metric name in each alert.
:vartype GRAPH_URL: str
"""

CARBON_HOST = GRAPHITE_HOST
"""
:var CARBON_HOST: endpoint to send metrics that should reach graphite
:vartype CARBON_PORT: int
"""

CARBON_PORT = 2003

SERVER_METRICS_NAME = 'YOUR_HOSTNAME'
"""
:var SERVER_METRICS_NAME: The hostname of the Skyline.
:vartype SERVER_METRICS_NAME: str
"""

SKYLINE_FEEDBACK_NAMESPACES = [SERVER_METRICS_NAME, GRAPHITE_HOST]

METRICS_INACTIVE_AFTER = FULL_DURATION - 3600

CANARY_METRIC = 'skyline.horizon.%s.worker.metrics_received' % SERVER_METRICS_NAME
"""
:var CANARY_METRIC: The metric name to use as the CANARY_METRIC
:vartype CANARY_METRIC: str
"""

SLACK_ENABLED = False
"""
:var SLACK_ENABLED: Enables the Slack alerter
:vartype SLACK_ENABLED: boolean
"""

ALERTS = (
    ('skyline', 'smtp', 1800),
    ('skyline_test.alerters.test', 'smtp|http_alerter-mock_api_alerter_receiver', 1),
    ('horizon.test.udp', 'smtp|http_alerter-mock_api_alerter_receiver', 1),
    # ('_tenant_id', 'smtp|http_alerter-mock_api_alerter_receiver', 3600, 168),
    ('skyline_test.alerters.test', 'slack', 1),  # slack alerts MUST be declared afer smtp
    # ('skyline_test.alerters.test', 'pagerduty', 1),
)
"""
:var ALERTS: This enables analyzer alerting and defines metrics to analyse with
    Mirage [USER_DEFINED]
:vartype ALERTS: tuples

- **Tuple schema example**::

    ALERTS = (
        # ('<metric_namespace>', '<alerter>', EXPIRATION_TIME, SECOND_ORDER_RESOLUTION_HOURS),
        ('metric1', 'smtp', 1800),
        ('metric3', 'slack', 600),
    )
"""

SLACK_OPTS = {
    # Bot User OAuth Access Token
    'bot_user_oauth_access_token': 'YOUR_slack_bot_user_oauth_access_token',
    # list of slack channels to notify about each anomaly
    # (similar to SMTP_OPTS['recipients'])
    # channel names - you can either pass the channel name (#general) or encoded
    # ID (C024BE91L)
    'channels': {
        'skyline': ('#skyline',),
        'skyline_test.alerters.test': ('#skyline',),
        'horizon.udp.test': ('#skyline', '#testing'),
    },
    # For every channel defined above a channel_id is required.
    'channel_ids': {
        '#skyline': 'YOUR_slack_channel_id',
        '#testing': 'YOUR_slack_other_channel_id',
    },
    'icon_emoji': ':chart_with_upwards_trend:',
    # Your default slack Skyline channel name e.g. '#skyline'
    'default_channel': 'YOUR_default_slack_channel',
    # Your default slack Skyline channel id e.g. 'C0XXXXXX'
    'default_channel_id': 'YOUR_default_slack_channel_id',
    # Whether to update slack message threads on any of the below events
    'thread_updates': True,
    # You can disable or enable each message_on event individually
    'message_on_training_data_viewed': True,
    'message_on_training_data_viewed_reaction_emoji': 'eyes',
    'message_on_features_profile_created': True,
    'message_on_features_profile_created_reaction_emoji': 'thumbsup',
    'message_on_features_profile_learnt': True,
    'message_on_features_profile_learnt_reaction_emoji': 'heavy_check_mark',
    'message_on_features_profile_disabled': True,
    'message_on_features_profile_disabled_reaction_emoji': 'x',
    'message_on_validated_features_profiles': True,
}
"""
:var SLACK_OPTS: Your slack settings. [USER_DEFINED]
:vartype SLACK_OPTS: dictionary

slack alerts require the slackclient package
"""

PAGERDUTY_OPTS = {
    'subdomain': 'example',
    'auth_token': 'your_pagerduty_auth_token',
    'key': 'your_pagerduty_service_api_key',
}

SKYLINE_URL = 'https://skyline.example.com'
"""
:var SKYLINE_URL: The http or https URL (and port if required) to access your
    Skyline on (no trailing slash). [USER_DEFINED]
:vartype SKYLINE_URL: str
"""
