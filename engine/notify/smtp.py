"""Sending one e-mail through SMTP, with the settings from the environment (docs/deployment.md):
SALESFLOW_SMTP_HOST (unset: no e-mail is sent), _PORT (25), _USER and _PASSWORD (log in when a
user is set), _FROM (the sender), _STARTTLS (1: upgrade the connection before logging in)."""

from __future__ import annotations

import os
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

TIMEOUT = 20  # seconds: a stuck server fails the attempt instead of holding the worker


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 25
    user: str | None = None
    password: str | None = None
    sender: str = "salesflow@localhost"
    starttls: bool = False

    @classmethod
    def from_env(cls) -> SmtpSettings | None:
        """None when SALESFLOW_SMTP_HOST is not set (e-mail is off)."""
        env = os.environ
        host = env.get("SALESFLOW_SMTP_HOST", "").strip()
        if not host:
            return None
        port = env.get("SALESFLOW_SMTP_PORT", "").strip() or "25"
        if not port.isdigit():
            raise ValueError(f"SALESFLOW_SMTP_PORT must be a port number, not {port!r}")
        return cls(host=host, port=int(port), user=env.get("SALESFLOW_SMTP_USER") or None,
                   password=env.get("SALESFLOW_SMTP_PASSWORD") or None,
                   sender=env.get("SALESFLOW_SMTP_FROM") or f"salesflow@{host}",
                   starttls=env.get("SALESFLOW_SMTP_STARTTLS", "").strip().lower() in ("1", "true", "yes", "on"))


def public_url() -> str | None:
    """SALESFLOW_PUBLIC_URL (e.g. https://salesflow.example.com): e-mails then link to the task or request."""
    url = os.environ.get("SALESFLOW_PUBLIC_URL", "").strip().rstrip("/")
    return url or None


class Connection:
    """One SMTP session for a worker pass (opened on the first e-mail, closed at the end)."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self.smtp: smtplib.SMTP | None = None

    def send(self, to: str, subject: str, body: str) -> None:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.settings.sender, to, subject
        message["Date"], message["Message-ID"] = formatdate(localtime=False), make_msgid(domain="salesflow")
        message.set_content(body)
        if self.smtp is None:
            self.smtp = self._open()
        try:
            self.smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused:
            raise
        except (smtplib.SMTPException, OSError):
            self.close()  # the session may be broken: the next e-mail opens a new one
            raise

    def _open(self) -> smtplib.SMTP:
        s = self.settings
        smtp = smtplib.SMTP(s.host, s.port, timeout=TIMEOUT)
        try:
            if s.starttls:
                smtp.starttls()
            if s.user:
                smtp.login(s.user, s.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (smtplib.SMTPException, OSError):
                self.smtp.close()
            self.smtp = None
