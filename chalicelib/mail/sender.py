"""Sends email through SES; locally, also writes each message as an .eml file into the outbox folder."""
import logging
import time
from pathlib import Path

from .. import aws
from ..settings import get_settings
from .messages import Mail

log = logging.getLogger(__name__)


def send(mail: Mail) -> None:
    settings = get_settings()
    message = mail.as_message(settings.mail_sender)
    raw = message.as_bytes()
    aws.client("ses").send_raw_email(
        Source=settings.mail_sender, Destinations=[mail.to], RawMessage={"Data": raw}
    )
    if settings.outbox_dir:
        _write_outbox(Path(settings.outbox_dir), mail.to, raw)
    log.info("mail sent", extra={"subject": mail.subject})


def _write_outbox(folder: Path, to: str, raw: bytes) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    safe_to = "".join(c if c.isalnum() or c in "@.-_" else "_" for c in to)
    name = f"{time.time_ns()}-{safe_to}.eml"  # names sort in sending order
    temporary = folder / (name + ".part")
    temporary.write_bytes(raw)
    temporary.rename(folder / name)  # readers never see a half-written file
