"""The fake's file upload flow, driven by slack_sdk's own files_upload_v2 (what Skyline calls)."""

from __future__ import annotations

import urllib.request

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from tests.support.fakeslack import FakeSlack
from tests.support.pngs import png_bytes


@pytest.fixture
def fake() -> FakeSlack:
    with FakeSlack(share_delay=0.5) as fake:
        fake.add_channel("#skyline")
        yield fake
    assert fake.server_errors == []


def client(fake: FakeSlack) -> WebClient:
    return WebClient(token=fake.token, base_url=fake.base_url, timeout=5, retry_handlers=[])


def test_files_upload_v2_shares_the_file_a_moment_later(fake: FakeSlack) -> None:
    cid = fake.channel_id("#skyline")
    resp = client(fake).files_upload_v2(
        content=png_bytes(), filename="g.png", channel=cid, initial_comment="*alert*"
    )
    file_id = resp["file"]["id"]
    assert [c.method for c in fake.calls] == [
        "files.getUploadURLExternal",
        "upload",
        "files.completeUploadExternal",
    ]
    info = client(fake).files_info(file=file_id)["file"]
    assert info["shares"] == {} and fake.messages("#skyline") == []  # not shared yet
    assert fake.wait_until(lambda f: len(f.messages("#skyline")) == 1, timeout=3)
    msg = fake.messages("#skyline")[0]
    assert msg.text == "*alert*" and msg.files[0]["name"] == "g.png"
    shares = client(fake).files_info(file=file_id)["file"]["shares"]["public"][cid]
    assert [s["ts"] for s in shares] == [msg.ts]
    history = client(fake).conversations_history(channel=cid)["messages"]
    assert history[0]["files"][0]["id"] == file_id and history[0]["upload"] is True
    assert fake.files()[0]["data"] == png_bytes()


def test_complete_without_a_channel_shares_nothing(fake: FakeSlack) -> None:
    c = client(fake)
    up = c.files_getUploadURLExternal(filename="g.png", length=len(png_bytes()))
    with pytest.raises(SlackApiError, match="file_not_found"):  # bytes not uploaded yet
        c.files_completeUploadExternal(files=[{"id": up["file_id"]}])
    with pytest.raises(SlackApiError, match="file_not_found"):  # not a file until completed
        c.files_info(file=up["file_id"])
    urllib.request.urlopen(urllib.request.Request(up["upload_url"], data=png_bytes()))
    c.files_completeUploadExternal(files=[{"id": up["file_id"], "title": "t"}])
    assert c.files_info(file=up["file_id"])["file"]["title"] == "t"
    assert fake.files()[0]["shares"] == {} and fake.messages("#skyline") == []


def test_complete_wants_a_channel_id_the_bot_is_in(fake: FakeSlack) -> None:
    c = client(fake)
    fake.add_channel("#outside", member=False)
    for channel, error in (
        ("#skyline", "channel_not_found"),
        (fake.channel_id("#outside"), "not_in_channel"),
    ):
        up = c.files_getUploadURLExternal(filename="g.png", length=3)
        urllib.request.urlopen(urllib.request.Request(up["upload_url"], data=b"abc"))
        with pytest.raises(SlackApiError, match=error):
            c.files_completeUploadExternal(files=[{"id": up["file_id"]}], channel_id=channel)


def test_files_upload_is_retired(fake: FakeSlack) -> None:
    with pytest.raises(SlackApiError, match="method_deprecated"), pytest.warns(UserWarning):
        client(fake).files_upload(content=b"x", filename="x.txt", channels="#skyline")


def test_file_scopes(fake: FakeSlack) -> None:
    fake.set_scopes({"chat:write", "files:write"})
    with pytest.raises(SlackApiError, match="missing_scope"):
        client(fake).files_info(file="F1")
    fake.set_scopes({"chat:write"})
    with pytest.raises(SlackApiError, match="missing_scope"):
        client(fake).files_getUploadURLExternal(filename="g.png", length=3)
