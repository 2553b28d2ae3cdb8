"""The log channel: one JSON line per message, never twice for a key, across restarts and processes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from fairdun.adapters.channels import LogChannel
from fairdun.application.channels import DeliveryResult
from fairdun.domain.contact import Outcome
from tests.channels.messages import SMS, FakeClock, email, sms


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_each_message_becomes_one_json_line(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "out" / "channel.jsonl"
    channel = LogChannel(path, clock=clock)
    assert channel.send(SMS) == DeliveryResult(SMS.key, Outcome.DELIVERED, attempts=1, provider_ref="log:1")
    assert channel.send(email()).provider_ref == "log:2"
    first, second = lines(path)
    assert first == {**SMS.to_document(), "logged_at": "2024-05-06T02:00:00+00:00", "ref": "log:1"}
    assert second["channel"] == "email"
    assert "张伟" in path.read_text(encoding="utf-8")  # readable UTF-8, not \\u escapes


def test_a_key_already_logged_is_not_written_again(tmp_path: Path) -> None:
    path = tmp_path / "channel.jsonl"
    channel = LogChannel(path)
    channel.send(SMS)
    again = channel.send(sms(body="a different body, same key"))
    assert again == DeliveryResult(SMS.key, Outcome.DELIVERED, attempts=0, provider_ref="log:1")
    assert len(lines(path)) == 1


def test_keys_are_remembered_across_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "channel.jsonl"
    LogChannel(path).send(SMS)
    LogChannel(path).send(sms("k-2"))
    restarted = LogChannel(path)
    assert restarted.send(SMS).attempts == 0
    assert restarted.send(sms("k-2")).provider_ref == "log:2"
    assert restarted.send(sms("k-3")).provider_ref == "log:3"
    assert [line["idempotency_key"] for line in lines(path)] == [SMS.key, "k-2", "k-3"]


def test_two_channels_on_one_file_see_each_others_lines(tmp_path: Path) -> None:
    path = tmp_path / "channel.jsonl"
    a, b = LogChannel(path), LogChannel(path)
    a.send(sms("k-1"))
    assert b.send(sms("k-1")).attempts == 0
    b.send(sms("k-2"))
    assert a.send(sms("k-2")).attempts == 0
    assert a.send(sms("k-3")).provider_ref == "log:3"
    assert len(lines(path)) == 3


def test_a_line_torn_by_a_crash_is_not_a_send(tmp_path: Path) -> None:
    path = tmp_path / "channel.jsonl"
    LogChannel(path).send(sms("k-1"))
    torn = json.dumps({**sms("k-2").to_document(), "ref": "log:2"}, ensure_ascii=False)[:40]
    with path.open("a", encoding="utf-8") as file:
        file.write(torn)  # the process died mid-write, before the newline
    result = LogChannel(path).send(sms("k-2"))
    assert (result.attempts, result.provider_ref) == (1, "log:3")
    raw = path.read_text(encoding="utf-8").splitlines()
    assert raw[1] == torn
    assert json.loads(raw[2])["idempotency_key"] == "k-2"
    assert LogChannel(path).send(sms("k-2")).provider_ref == "log:3"


def test_concurrent_processes_write_each_key_once(tmp_path: Path) -> None:
    path = tmp_path / "channel.jsonl"
    script = (
        "import sys\n"
        "from fairdun.adapters.channels import LogChannel\n"
        "from tests.channels.messages import sms\n"
        "channel = LogChannel(sys.argv[1])\n"
        "for i in range(40):\n"
        "    channel.send(sms(f'k-{i}'))\n"
    )
    root = Path(__file__).parents[2]
    workers = [subprocess.Popen([sys.executable, "-c", script, str(path)], cwd=root) for _ in range(3)]
    assert [w.wait(timeout=30) for w in workers] == [0, 0, 0]
    keys = [line["idempotency_key"] for line in lines(path)]
    assert sorted(keys) == sorted(f"k-{i}" for i in range(40))
    assert [line["ref"] for line in lines(path)] == [f"log:{n}" for n in range(1, 41)]


def test_a_file_that_cannot_be_written_is_a_retryable_failure(tmp_path: Path) -> None:
    (tmp_path / "not-a-folder").write_text("")
    result = LogChannel(tmp_path / "not-a-folder" / "channel.jsonl").send(SMS)
    assert (result.outcome, result.attempts, result.retryable) == (Outcome.FAILED, 1, True)
    assert result.error is not None
    assert result.error.startswith(("FileExistsError", "NotADirectoryError"))


def test_the_log_channel_reads_unsigned_callbacks(tmp_path: Path) -> None:
    body = b'{"idempotency_key": "k-1", "outcome": "bounced", "error": "simulated"}'
    channel = LogChannel(tmp_path / "channel.jsonl")
    assert channel.parse_callback(body, {}) == DeliveryResult("k-1", Outcome.BOUNCED, attempts=0, error="simulated")
    channel.close()


@pytest.mark.parametrize("junk", ["[1, 2]\n", '{"no": "key"}\n', "\n"])
def test_lines_that_are_not_messages_are_skipped_but_counted(tmp_path: Path, junk: str) -> None:
    path = tmp_path / "channel.jsonl"
    path.write_text(junk, encoding="utf-8")
    assert LogChannel(path).send(SMS).provider_ref == f"log:{len(junk.splitlines()) + 1}"
