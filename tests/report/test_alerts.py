"""Alerts: new spikes recorded once, Atom feed, webhook and SMTP delivery against local servers."""

from __future__ import annotations

import json
import socketserver
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
import sqlite_utils
from click.testing import CliRunner

from tests.report.test_report import build_store
from tracker.base.db import open_db
from tracker.base.errors import ConfigError
from tracker.base.settings import load_settings
from tracker.cli import cli
from tracker.pipeline import run_alerts
from tracker.report.alerts import ATOM_NS, atom_feed, find_new_alerts, recent_alerts
from tracker.report.deliver import AlertConfig, load_alert_config, slack_payload

A = f"{{{ATOM_NS}}}"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[tuple[sqlite_utils.Database, dict[str, int], Path]]:
    path = tmp_path / "tracker.db"
    db = open_db(path)
    ids = build_store(db.conn)
    # build_store puts a1 and a2 (two outlets, 2026-11-18) in one story cluster.
    db.conn.commit()
    yield db, ids, path
    db.conn.close()


class _Hook(BaseHTTPRequestHandler):
    bodies: ClassVar[list[dict[str, Any]]] = []
    status = 200

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        type(self).bodies.append(json.loads(self.rfile.read(length)))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[tuple[str, type[_Hook]]]:
    handler = type("Hook", (_Hook,), {"bodies": [], "status": 200})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", handler
    server.shutdown()
    server.server_close()


class _Smtp(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib: EHLO, MAIL, RCPT, DATA, QUIT."""

    messages: ClassVar[list[bytes]] = []

    def handle(self) -> None:
        self.wfile.write(b"220 localhost test SMTP\r\n")
        while line := self.rfile.readline():
            cmd = line.strip().upper()
            if cmd.startswith((b"EHLO", b"HELO")):
                self.wfile.write(b"250 localhost\r\n")
            elif cmd.startswith((b"MAIL", b"RCPT", b"RSET", b"NOOP")):
                self.wfile.write(b"250 OK\r\n")
            elif cmd == b"DATA":
                self.wfile.write(b"354 go ahead\r\n")
                data = b""
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data += chunk
                type(self).messages.append(data)
                self.wfile.write(b"250 queued\r\n")
            elif cmd == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"502 no\r\n")


@pytest.fixture
def smtp() -> Iterator[tuple[int, type[_Smtp]]]:
    handler = type("Smtp", (_Smtp,), {"messages": []})
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], handler
    server.shutdown()
    server.server_close()


def test_new_spikes_with_stories_grouped_by_cluster(store: tuple[sqlite_utils.Database, dict[str, int], Path]) -> None:
    conn = store[0].conn
    # The latest index day is 2026-11-22: three days back reaches the 19th, not the 18th.
    assert [a.day for a in find_new_alerts(conn, lookback_days=3)] == ["2026-11-19"]
    alerts = find_new_alerts(conn, lookback_days=7, base_url="http://h:1/")
    assert [(a.narrative_id, a.day) for a in alerts] == [("crypto", "2026-11-18"), ("crypto", "2026-11-19")]
    first = alerts[0]
    # a1 and a2 are one story in two outlets; the duplicate copy is not counted.
    assert [(s.articles, s.sources) for s in first.stories] == [(2, 2)]
    assert first.stories[0].url == "https://news.example/a?x=1&y=%282%29"  # safe_url encodes ( )
    assert first.link == "http://h:1/tracker/narrative_articles?narrative=crypto&day=2026-11-18"
    assert "spike on 2026-11-18 (2 articles" in first.title


def test_alerts_sent_once_by_webhook_and_email(
    store: tuple[sqlite_utils.Database, dict[str, int], Path], tmp_path: Path,
    webhook: tuple[str, type[_Hook]], smtp: tuple[int, type[_Smtp]],
) -> None:
    url, hook = webhook
    port, mail = smtp
    cfg = AlertConfig(feed_path=tmp_path / "a.atom", lookback_days=7, webhook_url=url,
                      smtp_host="127.0.0.1", smtp_port=port, email_to=["desk@example.org"],
                      retry_wait=0)
    settings = load_settings(env={}, db_path=store[2])
    first = run_alerts(settings, cfg)
    assert len(first.new) == 2 and first.sent == {"webhook": 2, "email": 2} and not first.errors
    assert len(hook.bodies) == 2 and hook.bodies[0]["text"].startswith("Crypto legitimacy: spike on")
    assert "All articles of the day" in json.dumps(hook.bodies[0]["blocks"])
    msg = message_from_bytes(mail.messages[0])
    assert msg["To"] == "desk@example.org" and "spike on 2026-11-18" in msg["Subject"]
    assert "2 articles, 2 outlets" in msg.get_payload()
    # A second run finds nothing new and sends nothing again.
    second = run_alerts(settings, cfg)
    assert second.new == [] and second.sent == {} and len(hook.bodies) == 2 and len(mail.messages) == 2
    feed = ET.parse(tmp_path / "a.atom").getroot()
    assert feed.tag == f"{A}feed"
    entries = feed.findall(f"{A}entry")
    assert len(entries) == 2
    assert {e.find(f"{A}link[@rel='alternate']").get("href") for e in entries} == {  # type: ignore[union-attr]
        f"http://127.0.0.1:8001/tracker/narrative_articles?narrative=crypto&day=2026-11-{d}" for d in (18, 19)}


def test_delivery_failures_are_recorded_retried_and_never_fatal(
    store: tuple[sqlite_utils.Database, dict[str, int], Path], tmp_path: Path,
    webhook: tuple[str, type[_Hook]],
) -> None:
    url, hook = webhook
    hook.status = 500
    cfg = AlertConfig(feed_path=tmp_path / "a.atom", lookback_days=3, webhook_url=url, attempts=2,
                      retry_wait=0, smtp_host="127.0.0.1", smtp_port=1, email_to=["x@example.org"],
                      smtp_timeout=2)
    settings = load_settings(env={}, db_path=store[2])
    res = run_alerts(settings, cfg)
    assert res.failed == {"webhook": 1, "email": 1} and res.sent == {}
    assert len(hook.bodies) == 2  # two attempts within the run
    rows = store[0].conn.execute(
        "SELECT channel, status, attempts, error FROM alert_deliveries ORDER BY channel").fetchall()
    assert [(c, s, n) for c, s, n, _ in rows] == [("email", "failed", 2), ("webhook", "failed", 2)]
    assert "500" in rows[1][3]
    # The webhook URL (a secret for Slack) is not stored, only its host and a hash.
    targets = {t for (t,) in store[0].conn.execute("SELECT target FROM alert_deliveries")}
    assert url not in targets and any(t.startswith("127.0.0.1#") for t in targets)
    assert all(url not in (e or "") for *_, e in rows) and all(url not in e for e in res.errors)
    # The next run retries the pending alert; once the hook answers, it is sent and recorded.
    hook.status = 200
    again = run_alerts(settings, cfg.model_copy(update={"smtp_host": None}))
    assert again.new == [] and again.sent == {"webhook": 1}
    assert (tmp_path / "a.atom").is_file()


def test_atom_feed_is_valid_and_escapes(store: tuple[sqlite_utils.Database, dict[str, int], Path]) -> None:
    conn = store[0].conn
    assert ET.fromstring(atom_feed([])).find(f"{A}entry") is None
    from tracker.report.alerts import record_alerts

    record_alerts(conn, find_new_alerts(conn, lookback_days=7), "2026-11-23T06:00:00Z")
    text = atom_feed(recent_alerts(conn))
    root = ET.fromstring(text)
    assert root.find(f"{A}updated").text == "2026-11-23T06:00:00Z"  # type: ignore[union-attr]
    content = " ".join(e.text or "" for e in root.iter(f"{A}content"))
    assert '<script>alert("x")</script>' in content  # text content, escaped by the serializer
    assert "<script>" not in text


def test_slack_payload_escapes_control_characters() -> None:
    from tracker.report.alerts import Alert, Story

    alert = Alert("n", "A <b> & c", "2026-01-01", 5, 1.0, 200.0, 150.0, 260.0, 0.001, 3,
                  (Story("x <y>", "https://e.example/1", "S", 2, 2, 0.9),), None)
    text = json.dumps(slack_payload(alert))
    assert "A &lt;b&gt; &amp; c" in text and "<https://e.example/1|x &lt;y&gt;>" in text


def test_config_from_file_then_env(tmp_path: Path) -> None:
    path = tmp_path / "alerts.yaml"
    path.write_text("webhook_url: http://127.0.0.1:9/x\nemail_to: a@x.org\nlookback_days: 5\n")
    cfg = load_alert_config(path, {"TRACKER_ALERTS_EMAIL_TO": "b@x.org, c@x.org"})
    assert cfg.webhook_url == "http://127.0.0.1:9/x" and cfg.lookback_days == 5
    assert cfg.email_to == ["b@x.org", "c@x.org"] and not cfg.email_enabled
    with pytest.raises(ConfigError, match="webhook_url"):
        load_alert_config(None, {"TRACKER_ALERTS_WEBHOOK": "ftp://x"})
    path.write_text("bogus: 1\n")
    with pytest.raises(ConfigError, match="bogus"):
        load_alert_config(path, {})


def test_cli_alerts(store: tuple[sqlite_utils.Database, dict[str, int], Path], tmp_path: Path) -> None:
    cfg = tmp_path / "alerts.yaml"
    cfg.write_text(f"feed_path: {tmp_path / 'feed.atom'}\nlookback_days: 7\n")
    runner = CliRunner()
    res = runner.invoke(cli, ["--db", str(store[2]), "alerts", "--config", str(cfg)])
    assert res.exit_code == 0, res.output
    assert "New alerts: 2." in res.output and (tmp_path / "feed.atom").is_file()
    res = runner.invoke(cli, ["--db", str(store[2]), "alerts", "--config", str(cfg), "--json"])
    assert res.exit_code == 0 and json.loads(res.output)["new"] == []
    cfg.write_text("smtp_port: 0\n")
    bad = runner.invoke(cli, ["--db", str(store[2]), "alerts", "--config", str(cfg)])
    assert bad.exit_code == 2 and "smtp_port" in bad.output


def test_tracker_serve_serves_the_feed(store: tuple[sqlite_utils.Database, dict[str, int], Path],
                                       tmp_path: Path) -> None:
    import asyncio

    from tracker.serve.server import build_datasette

    run_alerts(load_settings(env={}, db_path=store[2]),
               AlertConfig(feed_path=tmp_path / "a.atom", lookback_days=7))
    store[0].conn.commit()
    ds = build_datasette(store[2])
    resp = asyncio.run(ds.client.get("/-/alerts.atom"))
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("application/atom+xml")
    root = ET.fromstring(resp.text)
    assert len(root.findall(f"{A}entry")) == 2
    # The served feed and the written file list the same alerts.
    written = ET.parse(tmp_path / "a.atom").getroot()
    assert [e.findtext(f"{A}id") for e in root.iter(f"{A}entry")] == [
        e.findtext(f"{A}id") for e in written.iter(f"{A}entry")]


def test_no_alert_no_feed_file(tmp_path: Path) -> None:
    db = open_db(tmp_path / "empty.db")
    db.conn.close()
    res = run_alerts(load_settings(env={}, db_path=tmp_path / "empty.db"),
                     AlertConfig(feed_path=tmp_path / "a.atom"))
    assert res.new == [] and res.feed_path is None and not (tmp_path / "a.atom").exists()
