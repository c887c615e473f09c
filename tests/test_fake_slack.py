"""The fake Slack server, driven only through slack_sdk's real WebClient over HTTP.

Clients are built with ``retry_handlers=[]`` so the client never re-sends by itself, except in
the one test that documents what slack_sdk's default handler does to a dropped post.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any
from urllib.error import URLError

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from tests.support.fakeslack import BOT_ID, BOT_USER_ID, FakeSlack, ManualClock

TS_RE = re.compile(r"^\d+\.\d{6}$")
ALERT_METADATA = {"event_type": "skyline_alert", "event_payload": {"alert_id": "a-1", "value": 3.5}}


def client_for(fake: FakeSlack, *, token: str | None = "", timeout: float = 5.0) -> WebClient:
    """A WebClient that never retries; ``token=""`` means the fake's valid token."""
    return WebClient(
        token=fake.token if token == "" else token,
        base_url=fake.base_url,
        timeout=timeout,  # type: ignore[arg-type]  # slack_sdk annotates int, accepts float
        retry_handlers=[],
    )


def api_error(call: Callable[[], object]) -> SlackApiError:
    """Run ``call`` and return the SlackApiError it must raise."""
    with pytest.raises(SlackApiError) as info:
        call()
    return info.value


@pytest.fixture
def cid(fake_slack: FakeSlack) -> str:
    return fake_slack.channel_id("#skyline")


@pytest.fixture
def unlimited(fake_slack: FakeSlack) -> FakeSlack:
    """The fixture's fake without post rate limits, for tests that post many messages."""
    fake_slack.set_post_rate(None)
    return fake_slack


# ---------------------------------------------------------------------- basic behaviour


def test_auth_test_reports_the_bot(fake_slack: FakeSlack, slack_client: WebClient) -> None:
    resp = slack_client.auth_test()
    assert resp["ok"] is True
    assert resp["user_id"] == BOT_USER_ID
    assert resp["bot_id"] == BOT_ID
    assert resp["url"].startswith("https://")
    assert fake_slack.base_url.startswith("http://127.0.0.1:")
    assert fake_slack.base_url.endswith("/api/")


def test_channel_ids_look_like_slack(fake_slack: FakeSlack, cid: str) -> None:
    assert re.fullmatch(r"C0[0-9A-Z]{9}", cid)
    other = fake_slack.add_channel("alerts")
    assert other != cid
    assert fake_slack.channel_id("#alerts") == fake_slack.channel_id("alerts") == other
    with pytest.raises(ValueError):
        fake_slack.add_channel("#skyline")


def test_post_reply_reaction_and_already_reacted(
    fake_slack: FakeSlack, slack_client: WebClient, cid: str
) -> None:
    parent = slack_client.chat_postMessage(channel="#skyline", text="anomaly", unfurl_links=False)
    assert parent["channel"] == cid
    assert isinstance(parent["ts"], str) and TS_RE.match(parent["ts"])
    assert parent["message"]["text"] == "anomaly"
    assert parent["message"]["bot_id"] == BOT_ID

    reply = slack_client.chat_postMessage(channel=cid, text="resolved", thread_ts=parent["ts"])
    assert reply["message"]["thread_ts"] == parent["ts"]
    assert float(reply["ts"]) > float(parent["ts"])

    slack_client.reactions_add(channel=cid, timestamp=parent["ts"], name="eyes")
    err = api_error(
        lambda: slack_client.reactions_add(channel=cid, timestamp=parent["ts"], name="eyes")
    )
    assert err.response["error"] == "already_reacted"
    assert err.response.status_code == 200
    slack_client.reactions_add(channel=cid, timestamp=reply["ts"], name="thumbsup::skin-tone-2")

    assert [m.text for m in fake_slack.messages(cid)] == ["anomaly"]
    assert [m.text for m in fake_slack.replies(cid, parent["ts"])] == ["resolved"]
    assert fake_slack.reactions(cid, parent["ts"]) == {"eyes": 1}
    assert fake_slack.reactions(cid, reply["ts"]) == {"thumbsup::skin-tone-2": 1}


def test_post_resolves_names_but_reactions_add_does_not(
    fake_slack: FakeSlack, slack_client: WebClient, cid: str
) -> None:
    ts = slack_client.chat_postMessage(channel="skyline", text="by bare name")["ts"]
    assert fake_slack.message(cid, ts).text == "by bare name"

    for name in ("#skyline", "skyline"):
        err = api_error(
            lambda n=name: slack_client.reactions_add(channel=n, timestamp=ts, name="eyes")
        )
        assert err.response["error"] == "channel_not_found"
        err = api_error(lambda n=name: slack_client.conversations_history(channel=n))
        assert err.response["error"] == "channel_not_found"
    assert fake_slack.reactions(cid, ts) == {}


def test_reactions_add_errors(fake_slack: FakeSlack, slack_client: WebClient, cid: str) -> None:
    ts = slack_client.chat_postMessage(channel=cid, text="x")["ts"]
    err = api_error(lambda: slack_client.reactions_add(channel=cid, timestamp=ts, name=":eyes:"))
    assert err.response["error"] == "invalid_name"
    err = api_error(
        lambda: slack_client.reactions_add(channel=cid, timestamp="1.000001", name="eyes")
    )
    assert err.response["error"] == "message_not_found"
    archived = fake_slack.add_channel("old", archived=True)
    err = api_error(lambda: slack_client.reactions_add(channel=archived, timestamp=ts, name="eyes"))
    assert err.response["error"] == "is_archived"


def test_history_excludes_replies_and_replies_lists_the_thread(
    unlimited: FakeSlack, slack_client: WebClient, cid: str
) -> None:
    a = slack_client.chat_postMessage(channel=cid, text="A")["ts"]
    slack_client.chat_postMessage(channel=cid, text="A1", thread_ts=a)
    b = slack_client.chat_postMessage(channel=cid, text="B")["ts"]
    slack_client.chat_postMessage(channel=cid, text="A2", thread_ts=a)

    history = slack_client.conversations_history(channel=cid)["messages"]
    assert [m["text"] for m in history] == ["B", "A"]  # newest first, no replies
    assert history[1]["reply_count"] == 2 and history[1]["thread_ts"] == a

    thread = slack_client.conversations_replies(channel=cid, ts=a)["messages"]
    assert [m["text"] for m in thread] == ["A", "A1", "A2"]  # parent then replies, oldest first
    assert all(m["thread_ts"] == a for m in thread)
    single = slack_client.conversations_replies(channel=cid, ts=b)["messages"]
    assert [m["text"] for m in single] == ["B"]
    err = api_error(lambda: slack_client.conversations_replies(channel=cid, ts="1.000001"))
    assert err.response["error"] == "thread_not_found"


def test_broadcast_reply_is_also_in_history(
    fake_slack: FakeSlack, slack_client: WebClient, cid: str
) -> None:
    a = slack_client.chat_postMessage(channel=cid, text="A")["ts"]
    slack_client.chat_postMessage(channel=cid, text="loud", thread_ts=a, reply_broadcast=True)
    history = slack_client.conversations_history(channel=cid)["messages"]
    assert [(m["text"], m.get("subtype")) for m in history] == [
        ("loud", "thread_broadcast"),
        ("A", None),
    ]
    assert [m.text for m in fake_slack.messages(cid)] == ["A"]
    assert [m.reply_broadcast for m in fake_slack.replies(cid, a)] == [True]


def test_metadata_round_trip_needs_include_all_metadata(
    fake_slack: FakeSlack, slack_client: WebClient, cid: str
) -> None:
    ts = slack_client.chat_postMessage(channel=cid, text="a", metadata=ALERT_METADATA)["ts"]
    reply_md = {"event_type": "skyline_update", "event_payload": {"alert_id": "a-1"}}
    slack_client.chat_postMessage(channel=cid, text="r", thread_ts=ts, metadata=reply_md)

    plain = slack_client.conversations_history(channel=cid)["messages"]
    assert "metadata" not in plain[0]
    full = slack_client.conversations_history(channel=cid, include_all_metadata=True)["messages"]
    assert full[0]["metadata"] == ALERT_METADATA
    thread = slack_client.conversations_replies(channel=cid, ts=ts, include_all_metadata=True)
    assert [m["metadata"] for m in thread["messages"]] == [ALERT_METADATA, reply_md]

    assert [m.ts for m in fake_slack.find_by_metadata("event_type", "skyline_alert")] == [ts]
    assert len(fake_slack.find_by_metadata("alert_id", "a-1")) == 2
    assert fake_slack.find_by_metadata("alert_id", "nope") == []


def test_form_and_json_bodies_are_equivalent(
    fake_slack: FakeSlack, slack_client: WebClient, cid: str
) -> None:
    # params= sends x-www-form-urlencoded: metadata is then a JSON string, booleans "1"/"0".
    form = slack_client.api_call(
        "chat.postMessage",
        params={"channel": "#skyline", "text": "form", "metadata": json.dumps(ALERT_METADATA)},
    )
    assert fake_slack.message(cid, form["ts"]).metadata == ALERT_METADATA
    # json= sends a JSON body even for a method slack_sdk normally form-encodes.
    history = slack_client.api_call(
        "conversations.history", json={"channel": cid, "include_all_metadata": True}
    )
    assert history["messages"][0]["metadata"] == ALERT_METADATA
    form_history = slack_client.conversations_history(channel=cid, include_all_metadata=False)
    assert "metadata" not in form_history["messages"][0]


def test_token_in_form_body_is_accepted_and_not_logged(fake_slack: FakeSlack) -> None:
    body = f"token={fake_slack.token}".encode()
    req = urllib.request.Request(fake_slack.base_url + "auth.test", data=body, method="POST")
    req.add_header("Content-Type", "application/x-www-form-urlencoded")
    with urllib.request.urlopen(req, timeout=5) as resp:
        assert json.loads(resp.read())["ok"] is True
    assert fake_slack.calls[-1] == ("auth.test", {}, 200)


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing:UserWarning")
def test_post_message_argument_errors_store_nothing(
    unlimited: FakeSlack, slack_client: WebClient, cid: str
) -> None:
    fake = unlimited
    outside = fake.add_channel("private-ish", member=False)
    fake.add_channel("archived", archived=True)
    cases = [
        ({"channel": cid, "text": ""}, "no_text"),
        ({"channel": cid, "text": "x" * 40_001}, "msg_too_long"),
        ({"channel": cid, "text": "x", "thread_ts": "1.000001"}, "thread_not_found"),
        ({"channel": cid, "text": "x", "thread_ts": "yesterday"}, "invalid_thread_ts"),
        ({"channel": "#nope", "text": "x"}, "channel_not_found"),
        ({"channel": outside, "text": "x"}, "not_in_channel"),
        ({"channel": "#archived", "text": "x"}, "is_archived"),
        (
            {"channel": cid, "text": "x", "metadata": {"event_payload": {}}},
            "invalid_metadata_format",
        ),
    ]
    for kwargs, code in cases:
        err = api_error(lambda k=kwargs: slack_client.chat_postMessage(**k))
        assert (err.response.status_code, err.response["error"]) == (200, code), kwargs
    assert fake.all_messages() == []

    slack_client.chat_postMessage(channel=cid, text="x" * 40_000)
    with pytest.warns(UserWarning):  # slack_sdk warns about blocks without text; Slack accepts
        slack_client.chat_postMessage(
            channel=cid, blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "b"}}]
        )
    assert len(fake.messages(cid)) == 2


def test_reply_ts_as_thread_ts_joins_the_parent_thread(
    fake_slack: FakeSlack, slack_client: WebClient, cid: str
) -> None:
    parent = slack_client.chat_postMessage(channel=cid, text="p")["ts"]
    reply = slack_client.chat_postMessage(channel=cid, text="r1", thread_ts=parent)["ts"]
    nested = slack_client.chat_postMessage(channel=cid, text="r2", thread_ts=reply)
    assert nested["message"]["thread_ts"] == parent
    assert [m.text for m in fake_slack.replies(cid, parent)] == ["r1", "r2"]


def test_strict_reply_ts_policy_rejects_a_reply_ts() -> None:
    with FakeSlack(reply_ts_policy="error") as fake:
        cid = fake.add_channel("skyline")
        client = client_for(fake)
        parent = client.chat_postMessage(channel=cid, text="p")["ts"]
        reply = client.chat_postMessage(channel=cid, text="r1", thread_ts=parent)["ts"]
        err = api_error(lambda: client.chat_postMessage(channel=cid, text="r2", thread_ts=reply))
        assert err.response["error"] == "thread_not_found"


def test_conversations_info_and_permalink(
    fake_slack: FakeSlack, slack_client: WebClient, cid: str
) -> None:
    info = slack_client.conversations_info(channel=cid)["channel"]
    assert info == info | {"id": cid, "name": "skyline", "is_member": True, "is_archived": False}
    old = fake_slack.add_channel("old", member=False, archived=True)
    old_info = slack_client.conversations_info(channel=old)["channel"]
    assert (old_info["is_member"], old_info["is_archived"]) == (False, True)
    err = api_error(lambda: slack_client.conversations_info(channel="#skyline"))
    assert err.response["error"] == "channel_not_found"

    parent = slack_client.chat_postMessage(channel=cid, text="p")["ts"]
    reply = slack_client.chat_postMessage(channel=cid, text="r", thread_ts=parent)["ts"]
    link = slack_client.chat_getPermalink(channel=cid, message_ts=parent)["permalink"]
    assert link.endswith(f"/archives/{cid}/p{parent.replace('.', '')}")
    reply_link = slack_client.chat_getPermalink(channel=cid, message_ts=reply)["permalink"]
    assert f"thread_ts={parent}" in reply_link and f"cid={cid}" in reply_link
    err = api_error(lambda: slack_client.chat_getPermalink(channel=cid, message_ts="1.000001"))
    assert err.response["error"] == "message_not_found"


def test_conversations_list_pages_types_and_archived() -> None:
    """As Slack: public channels by default; private ones with ``types`` and only to members;
    ``exclude_archived``; a cursor per page until ``next_cursor`` is empty."""
    with FakeSlack() as fake:
        client = client_for(fake)
        pub = {fake.add_channel(f"pub{i}") for i in range(5)}
        priv = fake.add_channel("secret", private=True, channel_id="G12")
        fake.add_channel("hidden", private=True, member=False)
        old = fake.add_channel("old", archived=True)

        def listing(**kw: Any) -> list[str]:
            ids, cursor, pages = [], "", 0
            while True:
                resp = client.conversations_list(limit=2, cursor=cursor or None, **kw)
                ids += [c["id"] for c in resp["channels"]]
                pages += 1
                cursor = resp["response_metadata"]["next_cursor"]
                if not cursor:
                    assert pages > 1
                    return ids

        assert sorted(listing()) == sorted(pub | {old})
        both = listing(types="public_channel,private_channel", exclude_archived=True)
        assert sorted(both) == sorted(pub | {priv})
        assert len(both) == len(set(both))
        err = api_error(lambda: client.conversations_list(types="rooms"))
        assert err.response["error"] == "invalid_types"
        # The invisible private channel does not exist for the bot.
        err = api_error(lambda: client.chat_postMessage(channel="#hidden", text="x"))
        assert err.response["error"] == "channel_not_found"
        assert client.chat_postMessage(channel=priv, text="x")["channel"] == "G12"
    with FakeSlack(scopes=["channels:read"]) as fake:
        err = api_error(
            lambda: client_for(fake).conversations_list(types="public_channel,private_channel")
        )
        assert err.response["error"] == "missing_scope"


def test_history_needs_membership(fake_slack: FakeSlack, slack_client: WebClient) -> None:
    outside = fake_slack.add_channel("elsewhere", member=False)
    err = api_error(lambda: slack_client.conversations_history(channel=outside))
    assert err.response["error"] == "not_in_channel"


def test_unknown_method(fake_slack: FakeSlack, slack_client: WebClient) -> None:
    err = api_error(lambda: slack_client.api_call("chat.teleport"))
    assert err.response.status_code == 404
    assert err.response["error"] == "unknown_method"
    assert fake_slack.calls[-1] == ("chat.teleport", {}, 404)


# ---------------------------------------------------------------------- auth and scopes


def test_auth_errors() -> None:
    with FakeSlack(tokens={"xoxb-a", "xoxb-b"}) as fake:
        assert api_error(client_for(fake, token=None).auth_test).response["error"] == "not_authed"
        wrong = client_for(fake, token="xoxb-wrong")
        assert api_error(wrong.auth_test).response["error"] == "invalid_auth"

        fake.revoke("xoxb-a")
        revoked = client_for(fake, token="xoxb-a")
        assert api_error(revoked.auth_test).response["error"] == "token_revoked"
        assert client_for(fake, token="xoxb-b").auth_test()["ok"]

        fake.deactivate()
        inactive = api_error(client_for(fake, token="xoxb-b").auth_test)
        assert inactive.response["error"] == "account_inactive"
        fake.activate()
        assert client_for(fake, token="xoxb-b").auth_test()["ok"]


def test_missing_scope(fake_slack: FakeSlack, slack_client: WebClient, cid: str) -> None:
    fake_slack.set_scopes({"chat:write"})
    ts = slack_client.chat_postMessage(channel=cid, text="still allowed")["ts"]
    err = api_error(lambda: slack_client.reactions_add(channel=cid, timestamp=ts, name="eyes"))
    assert err.response["error"] == "missing_scope"
    assert err.response["needed"] == "reactions:write"
    assert err.response["provided"] == "chat:write"
    assert err.response.headers["X-Accepted-OAuth-Scopes"] == "reactions:write"


# ---------------------------------------------------------------------- rate limits


def test_post_rate_limit_is_per_channel_with_retry_after() -> None:
    clock = ManualClock()
    with FakeSlack(post_rate=1.0, post_burst=3, clock=clock) as fake:
        cid = fake.add_channel("skyline")
        other = fake.add_channel("other")
        client = client_for(fake)
        for i in range(3):
            client.chat_postMessage(channel=cid, text=f"burst {i}")
        err = api_error(lambda: client.chat_postMessage(channel=cid, text="too fast"))
        assert err.response.status_code == 429
        assert err.response["error"] == "ratelimited"
        assert err.response.headers["Retry-After"] == "1"
        assert len(fake.messages(cid)) == 3  # the refused message is not stored

        client.chat_postMessage(channel=other, text="other channel has its own bucket")
        assert (fake.ratelimited_count, fake.ratelimited_by_channel) == (1, {cid: 1})

        clock.advance(1.0)
        client.chat_postMessage(channel="#skyline", text="after Retry-After")
        assert len(fake.messages(cid)) == 4

        fake.set_post_rate(0.25, 1)
        client.chat_postMessage(channel=cid, text="one")
        err = api_error(lambda: client.chat_postMessage(channel=cid, text="two"))
        assert err.response.headers["Retry-After"] == "4"


def test_rate_limit_can_be_disabled() -> None:
    with FakeSlack(post_rate=None) as fake:
        cid = fake.add_channel("skyline")
        client = client_for(fake)
        for i in range(20):
            client.chat_postMessage(channel=cid, text=str(i))
        assert len(fake.messages(cid)) == 20
        assert fake.ratelimited_count == 0


def test_reactions_have_their_own_bucket() -> None:
    clock = ManualClock()
    with FakeSlack(post_rate=None, reaction_rate=1.0, reaction_burst=2, clock=clock) as fake:
        cid = fake.add_channel("skyline")
        client = client_for(fake)
        ts = [client.chat_postMessage(channel=cid, text=str(i))["ts"] for i in range(3)]
        client.reactions_add(channel=cid, timestamp=ts[0], name="eyes")
        client.reactions_add(channel=cid, timestamp=ts[1], name="eyes")
        err = api_error(lambda: client.reactions_add(channel=cid, timestamp=ts[2], name="eyes"))
        assert err.response.status_code == 429
        assert fake.reactions(cid, ts[2]) == {}
        client.chat_postMessage(channel=cid, text="posts are unaffected")
        clock.advance(1.0)
        client.reactions_add(channel=cid, timestamp=ts[2], name="eyes")


def test_strict_post_limit_allows_no_burst() -> None:
    clock = ManualClock()
    with FakeSlack(post_rate=1.0, post_burst=1, clock=clock) as fake:
        cid = fake.add_channel("skyline")
        client = client_for(fake)
        client.chat_postMessage(channel=cid, text="one")
        err = api_error(lambda: client.chat_postMessage(channel=cid, text="two"))
        assert (err.response.status_code, err.response.headers["Retry-After"]) == (429, "1")
        clock.advance(0.999)
        api_error(lambda: client.chat_postMessage(channel=cid, text="two, a bit early"))
        clock.advance(0.001)
        client.chat_postMessage(channel=cid, text="two")
        assert [m.text for m in fake.messages(cid)] == ["one", "two"]
        assert fake.ratelimited_count == 2


def test_method_limits_are_workspace_wide_on_top_of_the_channel_limit() -> None:
    clock = ManualClock()
    limits = {"chat.postMessage": (1.0, 3), "conversations.history": (0.5, 1)}
    with FakeSlack(post_rate=1.0, post_burst=2, method_limits=limits, clock=clock) as fake:
        cids = [fake.add_channel(f"c{i}") for i in range(4)]
        client = client_for(fake)
        for cid in cids[:3]:
            client.chat_postMessage(channel=cid, text="within the workspace burst")
        err = api_error(lambda: client.chat_postMessage(channel=cids[3], text="one too many"))
        assert (err.response.status_code, err.response.headers["Retry-After"]) == (429, "1")
        assert fake.ratelimited_by_channel == {cids[3]: 1}
        clock.advance(1.0)
        # The refused call spent nothing of its channel's burst: 2 there, 1 in the workspace.
        client.chat_postMessage(channel=cids[3], text="now")
        api_error(lambda: client.chat_postMessage(channel=cids[3], text="workspace empty"))
        client.conversations_history(channel=cids[0])
        err = api_error(lambda: client.conversations_history(channel=cids[0]))
        assert err.response.headers["Retry-After"] == "2"


# ---------------------------------------------------------------------- fault injection


def test_injected_ratelimited_uses_given_retry_after(
    fake_slack: FakeSlack, slack_client: WebClient, cid: str
) -> None:
    fake_slack.inject("chat.postMessage", "ratelimited", retry_after=7)
    err = api_error(lambda: slack_client.chat_postMessage(channel=cid, text="x"))
    assert (err.response.status_code, err.response.headers["Retry-After"]) == (429, "7")
    assert fake_slack.messages(cid) == []
    assert fake_slack.ratelimited_by_channel == {cid: 1}
    slack_client.chat_postMessage(channel=cid, text="x")
    assert len(fake_slack.messages(cid)) == 1


@pytest.mark.parametrize("status", [500, 503])
def test_http_5xx_html_body_surfaces_as_error(
    fake_slack: FakeSlack, slack_client: WebClient, cid: str, status: int
) -> None:
    fake_slack.inject("chat.postMessage", f"http_{status}")  # type: ignore[arg-type]
    err = api_error(lambda: slack_client.chat_postMessage(channel=cid, text="x"))
    assert err.response.status_code == status
    assert err.response["ok"] is False
    assert "non-JSON" in err.response["error"]  # slack_sdk's wording for an HTML body
    assert fake_slack.messages(cid) == []
    assert fake_slack.calls[-1].status == status


def test_outage_then_recovery() -> None:
    clock = ManualClock()
    with FakeSlack(clock=clock) as fake:
        cid = fake.add_channel("skyline")
        client = client_for(fake)
        fake.outage(10)
        assert api_error(client.auth_test).response.status_code == 503
        assert (
            api_error(lambda: client.chat_postMessage(channel=cid, text="x")).response.status_code
            == 503
        )
        clock.advance(10)
        client.chat_postMessage(channel=cid, text="back")
        fake.down()
        assert api_error(client.auth_test).response.status_code == 503
        fake.up()
        assert client.auth_test()["ok"]
        assert [m.text for m in fake.messages(cid)] == ["back"]


def test_drop_after_store_raises_but_the_message_exists(
    fake_slack: FakeSlack, slack_client: WebClient, cid: str
) -> None:
    fake_slack.inject("chat.postMessage", "drop_after_store")
    with pytest.raises(ConnectionError):  # http.client.RemoteDisconnected
        slack_client.chat_postMessage(channel=cid, text="ambiguous")
    assert [m.text for m in fake_slack.messages(cid)] == ["ambiguous"]
    assert fake_slack.calls[-1].status is None


def test_drop_after_store_on_reactions(
    fake_slack: FakeSlack, slack_client: WebClient, cid: str
) -> None:
    ts = slack_client.chat_postMessage(channel=cid, text="x")["ts"]
    fake_slack.inject("reactions.add", "drop_after_store")
    with pytest.raises(ConnectionError):
        slack_client.reactions_add(channel=cid, timestamp=ts, name="eyes")
    assert fake_slack.reactions(cid, ts) == {"eyes": 1}
    err = api_error(lambda: slack_client.reactions_add(channel=cid, timestamp=ts, name="eyes"))
    assert err.response["error"] == "already_reacted"  # why a retry must treat it as success


def test_drop_before_stores_nothing(
    fake_slack: FakeSlack, slack_client: WebClient, cid: str
) -> None:
    fake_slack.inject("chat.postMessage", "drop_before")
    with pytest.raises(ConnectionError):
        slack_client.chat_postMessage(channel=cid, text="lost")
    assert fake_slack.messages(cid) == []


@pytest.mark.parametrize("phase", ["before", "after"])
def test_slow_answer_and_client_timeout_still_store(
    fake_slack: FakeSlack, cid: str, phase: str
) -> None:
    client = client_for(fake_slack, timeout=0.3)
    fake_slack.inject("chat.postMessage", "slow", seconds=0.8, phase=phase)
    started = time.monotonic()
    with pytest.raises((TimeoutError, URLError)):
        client.chat_postMessage(channel=cid, text="late")
    assert time.monotonic() - started < 0.75  # the client gave up before the answer came
    assert fake_slack.wait_until(lambda f: len(f.messages(cid)) == 1, timeout=5)


def test_error_fault_with_and_without_the_action(
    fake_slack: FakeSlack, slack_client: WebClient, cid: str
) -> None:
    fake_slack.inject("chat.postMessage", "error", error="internal_error")
    err = api_error(lambda: slack_client.chat_postMessage(channel=cid, text="a"))
    assert (err.response.status_code, err.response["error"]) == (200, "internal_error")
    assert fake_slack.messages(cid) == []

    # fatal_error: "some part may have succeeded" — here the post did.
    fake_slack.inject("chat.postMessage", "error", error="fatal_error", perform=True)
    err = api_error(lambda: slack_client.chat_postMessage(channel=cid, text="b"))
    assert err.response["error"] == "fatal_error"
    assert [m.text for m in fake_slack.messages(cid)] == ["b"]


def test_faults_are_fifo_per_method(
    unlimited: FakeSlack, slack_client: WebClient, cid: str
) -> None:
    fake = unlimited
    fake.inject("chat.postMessage", "http_503")
    fake.inject("chat.postMessage", "ratelimited", times=2, retry_after=1)
    assert fake.pending_faults("chat.postMessage") == 3
    assert slack_client.auth_test()["ok"]  # other methods are not affected
    for _ in range(3):
        with pytest.raises(SlackApiError):
            slack_client.chat_postMessage(channel=cid, text="x")
    slack_client.chat_postMessage(channel=cid, text="x")
    assert [c.status for c in fake.calls_to("chat.postMessage")] == [503, 429, 429, 200]
    assert fake.pending_faults("chat.postMessage") == 0


def test_inject_rejects_bad_arguments(fake_slack: FakeSlack) -> None:
    bad: list[tuple[str, str, dict[str, object]]] = [
        ("chat.nope", "http_500", {}),
        ("chat.postMessage", "explode", {}),
        ("chat.postMessage", "http_500", {"seconds": 1}),
        ("chat.postMessage", "slow", {}),
        ("chat.postMessage", "slow", {"seconds": 1, "phase": "during"}),
        ("chat.postMessage", "error", {}),
        ("chat.postMessage", "drop_before", {"times": 0}),
    ]
    for method, fault, kw in bad:
        with pytest.raises(ValueError):
            fake_slack.inject(method, fault, **kw)  # type: ignore[arg-type]
    assert fake_slack.pending_faults("chat.postMessage") == 0


def test_default_retry_handler_duplicates_a_dropped_post(fake_slack: FakeSlack, cid: str) -> None:
    """The duplicate the sidecar must avoid: slack_sdk's default handler re-sends the post."""
    default_client = WebClient(token=fake_slack.token, base_url=fake_slack.base_url, timeout=5)
    fake_slack.inject("chat.postMessage", "drop_after_store")
    resp = default_client.chat_postMessage(channel=cid, text="alert 42")
    assert resp["ok"] is True  # the caller sees one clean success...
    texts = [m.text for m in fake_slack.messages(cid)]
    assert texts == ["alert 42", "alert 42"]  # ...but Slack now shows the alert twice
    assert [c.status for c in fake_slack.calls_to("chat.postMessage")] == [None, 200]


# ---------------------------------------------------------------------- pagination


Page = dict[str, Any]


def as_page(resp: SlackResponse) -> Page:
    assert isinstance(resp.data, dict)
    return resp.data


def collect_pages(fetch: Callable[[str, int], Page], limit: int) -> Iterator[Page]:
    """Follow next_cursor with a bounded loop; ``fetch(cursor, limit)`` returns a response."""
    cursor = ""
    for _ in range(1_000):
        page = fetch(cursor, limit)
        yield page
        cursor = page["response_metadata"]["next_cursor"]
        assert page["has_more"] is bool(cursor)
        if not cursor:
            return
    raise AssertionError("pagination did not end")


def test_history_pagination_and_window(
    unlimited: FakeSlack, slack_client: WebClient, cid: str
) -> None:
    ts = [slack_client.chat_postMessage(channel=cid, text=str(i))["ts"] for i in range(5)]

    def fetch(cursor: str, limit: int) -> Page:
        return as_page(slack_client.conversations_history(channel=cid, limit=limit, cursor=cursor))

    pages = [[m["ts"] for m in p["messages"]] for p in collect_pages(fetch, 2)]
    assert pages == [[ts[4], ts[3]], [ts[2], ts[1]], [ts[0]]]
    # slack_sdk's own iteration follows the same cursors
    via_sdk = [
        m["ts"]
        for p in slack_client.conversations_history(channel=cid, limit=2)
        for m in p["messages"]
    ]
    assert via_sdk == ts[::-1]

    window = slack_client.conversations_history(channel=cid, oldest=ts[1], latest=ts[4])
    assert [m["ts"] for m in window["messages"]] == [ts[3], ts[2]]
    inclusive = slack_client.conversations_history(
        channel=cid, oldest=ts[1], latest=ts[4], inclusive=True
    )
    assert [m["ts"] for m in inclusive["messages"]] == [ts[4], ts[3], ts[2], ts[1]]
    err = api_error(lambda: slack_client.conversations_history(channel=cid, cursor="garbage!"))
    assert err.response["error"] == "invalid_cursor"


def test_replies_pagination(unlimited: FakeSlack, slack_client: WebClient, cid: str) -> None:
    parent = slack_client.chat_postMessage(channel=cid, text="p")["ts"]
    replies = [
        slack_client.chat_postMessage(channel=cid, text=f"r{i}", thread_ts=parent)["ts"]
        for i in range(5)
    ]

    def fetch(cursor: str, limit: int) -> Page:
        resp = slack_client.conversations_replies(
            channel=cid, ts=parent, limit=limit, cursor=cursor
        )
        return as_page(resp)

    pages = [[m["ts"] for m in p["messages"]] for p in collect_pages(fetch, 2)]
    assert pages == [[parent, replies[0]], replies[1:3], replies[3:5]]


@pytest.fixture(scope="module")
def shared_fake() -> Iterator[FakeSlack]:
    with FakeSlack(post_rate=None) as fake:
        yield fake


_channel_names = (f"prop-{i}" for i in itertools.count())


@settings(max_examples=25, deadline=None)
@given(count=st.integers(0, 25), limit=st.integers(1, 30))
def test_history_pages_cover_every_message_once(
    shared_fake: FakeSlack, count: int, limit: int
) -> None:
    cid = shared_fake.add_channel(next(_channel_names))
    seeded = [shared_fake.seed_message(cid, f"m{i}") for i in range(count)]
    assert all(TS_RE.match(t) for t in seeded)
    assert seeded == sorted(seeded, key=float) and len(set(seeded)) == count
    client = client_for(shared_fake)

    def fetch(cursor: str, lim: int) -> Page:
        return as_page(client.conversations_history(channel=cid, limit=lim, cursor=cursor))

    seen = [m["ts"] for p in collect_pages(fetch, limit) for m in p["messages"]]
    assert seen == seeded[::-1]


# ---------------------------------------------------------------------- lifecycle


def test_concurrent_posts_get_unique_increasing_ts(unlimited: FakeSlack, cid: str) -> None:
    client = client_for(unlimited)

    def post_many(worker: int) -> None:
        for i in range(10):
            client.chat_postMessage(channel=cid, text=f"{worker}-{i}")

    threads = [threading.Thread(target=post_many, args=(w,)) for w in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    stored = [m.ts for m in unlimited.messages(cid)]
    assert len(stored) == len(set(stored)) == 60
    assert stored == sorted(stored, key=float)


def test_instances_are_independent() -> None:
    with FakeSlack() as one, FakeSlack() as two:
        assert one.port != two.port
        one.add_channel("only-here")
        with pytest.raises(KeyError):
            two.channel_id("only-here")


def test_stop_is_prompt_with_a_slow_request_in_flight() -> None:
    fake = FakeSlack().start()
    cid = fake.add_channel("skyline")
    fake.inject("chat.postMessage", "slow", seconds=30, phase="after")
    with pytest.raises((TimeoutError, URLError)):
        client_for(fake, timeout=0.2).chat_postMessage(channel=cid, text="x")
    started = time.monotonic()
    fake.stop()
    assert time.monotonic() - started < 2
    with pytest.raises(RuntimeError):
        _ = fake.base_url
