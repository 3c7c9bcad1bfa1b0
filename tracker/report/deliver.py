"""Deliver alerts: the alerts configuration, a Slack-compatible webhook POST and SMTP email.

Each send is retried with tenacity (exponential backoff) and ends as an outcome, never
an exception: a failure to deliver must not stop the nightly run.
"""

from __future__ import annotations

import hashlib
import os
import smtplib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from tenacity import RetryError, Retrying, stop_after_attempt, wait_exponential

from tracker.base.errors import ConfigError
from tracker.report.alerts import DEFAULT_DAY_URL, Alert


class AlertConfig(BaseModel):
    """Where alerts go. From a YAML file (``--config`` or TRACKER_ALERTS_CONFIG), then env."""

    model_config = ConfigDict(extra="forbid")

    #: The Atom file (default: ``alerts.atom`` in the reports directory).
    feed_path: Path | None = None
    #: Where ``tracker serve`` is reachable; links to the day's page need it.
    base_url: str = "http://127.0.0.1:8001"
    day_url: str = DEFAULT_DAY_URL
    lookback_days: int = Field(3, ge=0)
    top_stories: int = Field(3, ge=1)
    webhook_url: str | None = None
    webhook_timeout: float = Field(10.0, gt=0)
    smtp_host: str | None = None
    smtp_port: int = Field(25, ge=1, le=65535)
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    smtp_timeout: float = Field(20.0, gt=0)
    email_from: str = "tracker@localhost"
    email_to: list[str] = Field(default_factory=list)
    #: Attempts per send within one run, and the first pause between them (seconds).
    attempts: int = Field(3, ge=1)
    retry_wait: float = Field(1.0, ge=0)
    #: Runs that may fail to deliver an alert before it is given up on that channel.
    max_failed_runs: int = Field(3, ge=1)

    @field_validator("webhook_url")
    @classmethod
    def _http(cls, v: str | None) -> str | None:
        if v and not v.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return v or None

    @field_validator("email_to", mode="before")
    @classmethod
    def _split(cls, v: Any) -> Any:
        return [x.strip() for x in v.split(",") if x.strip()] if isinstance(v, str) else v

    @property
    def email_enabled(self) -> bool:
        """SMTP host and at least one recipient given."""
        return bool(self.smtp_host and self.email_to)


#: Environment variables and the setting each overrides.
ENV: dict[str, str] = {
    "TRACKER_ALERTS_FEED": "feed_path",
    "TRACKER_ALERTS_BASE_URL": "base_url",
    "TRACKER_ALERTS_WEBHOOK": "webhook_url",
    "TRACKER_ALERTS_SMTP_HOST": "smtp_host",
    "TRACKER_ALERTS_SMTP_PORT": "smtp_port",
    "TRACKER_ALERTS_SMTP_USER": "smtp_user",
    "TRACKER_ALERTS_SMTP_PASSWORD": "smtp_password",
    "TRACKER_ALERTS_SMTP_STARTTLS": "smtp_starttls",
    "TRACKER_ALERTS_EMAIL_FROM": "email_from",
    "TRACKER_ALERTS_EMAIL_TO": "email_to",
}


def load_alert_config(path: Path | None = None, environ: Mapping[str, str] | None = None) -> AlertConfig:
    """The file's settings (if any), overridden by TRACKER_ALERTS_* variables, validated."""
    env = os.environ if environ is None else environ
    path = path or (Path(env["TRACKER_ALERTS_CONFIG"]) if env.get("TRACKER_ALERTS_CONFIG") else None)
    raw: dict[str, Any] = {}
    if path is not None:
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"Cannot read the alerts config {path}: {exc}. Fix: give a readable "
                              "YAML file (keys as in tracker/report/deliver.py AlertConfig).") from exc
        if not isinstance(loaded, dict):
            raise ConfigError(f"The alerts config {path} is not a mapping. Fix: write key: value lines.")
        raw.update(loaded)
    raw.update({key: env[var] for var, key in ENV.items() if env.get(var)})
    try:
        return AlertConfig(**raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"Invalid alerts settings ({problems}). Fix: correct them in "
                          f"{path or 'the TRACKER_ALERTS_* variables'}.") from exc


@dataclass(frozen=True)
class Outcome:
    """How one delivery went: sent or not, after how many attempts, and the last error."""

    ok: bool
    attempts: int
    error: str | None = None


def with_retries(send: Callable[[], None], attempts: int, wait: float) -> Outcome:
    """Run ``send`` up to ``attempts`` times with exponential backoff; never raises."""
    tries = 0
    retrying = Retrying(stop=stop_after_attempt(attempts),
                        wait=wait_exponential(multiplier=wait, max=max(wait * 8, 0.0)), reraise=False)
    try:
        for attempt in retrying:
            with attempt:
                tries += 1
                send()
    except RetryError as exc:
        last = exc.last_attempt.exception()
        return Outcome(False, tries, f"{type(last).__name__}: {last}")
    return Outcome(True, tries)


def webhook_target(url: str) -> str:
    """How a webhook is recorded: host and a short hash, never the URL (Slack's holds a secret)."""
    digest = hashlib.sha256(url.encode("utf-8")).hexdigest()[:12]
    return f"{urlsplit(url).hostname or 'webhook'}#{digest}"


def slack_payload(alert: Alert) -> dict[str, Any]:
    """Slack-compatible JSON: a ``text`` fallback and blocks with the top stories as links."""
    stories = "\n".join(
        f"• <{s.url}|{_slack(s.title)}> ({_slack(s.source)}; {s.articles} articles, {s.sources} outlets)"
        if s.url else f"• {_slack(s.title)} ({_slack(s.source)})"
        for s in alert.stories
    )
    head = f"*{_slack(alert.title)}*"
    if alert.link:
        head += f"\n<{alert.link}|All articles of the day>"
    blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": head}}]
    if stories:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": stories}})
    return {"text": alert.title, "blocks": blocks}


def _slack(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def post_webhook(alert: Alert, config: AlertConfig) -> Outcome:
    """POST the alert to the webhook; non-2xx answers and network errors are retried."""
    url = config.webhook_url
    assert url is not None

    def send() -> None:
        resp = httpx.post(url, json=slack_payload(alert), timeout=config.webhook_timeout)
        resp.raise_for_status()

    outcome = with_retries(send, config.attempts, config.retry_wait)
    if outcome.error:
        # httpx names the URL in its errors: keep the secret out of the database and logs.
        return Outcome(outcome.ok, outcome.attempts, outcome.error.replace(url, webhook_target(url)))
    return outcome


def email_message(alert: Alert, config: AlertConfig) -> EmailMessage:
    """The alert as a plain-text email."""
    msg = EmailMessage()
    msg["Subject"] = f"[tracker] {alert.title}"
    msg["From"] = config.email_from
    msg["To"] = ", ".join(config.email_to)
    msg.set_content(alert.summary + "\n")
    return msg


def send_email(alert: Alert, config: AlertConfig) -> Outcome:
    """Send the alert by SMTP (STARTTLS and login when configured), with retries."""
    host = config.smtp_host
    assert host is not None

    def send() -> None:
        with smtplib.SMTP(host, config.smtp_port, timeout=config.smtp_timeout) as smtp:
            if config.smtp_starttls:
                smtp.starttls()
            if config.smtp_user:
                smtp.login(config.smtp_user, config.smtp_password or "")
            smtp.send_message(email_message(alert, config))

    return with_retries(send, config.attempts, config.retry_wait)
