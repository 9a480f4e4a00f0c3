"""Worker jobs of the accounts app."""

from __future__ import annotations

import datetime as dt

from procrastinate.contrib.django import app

from autocrm.accounts.qr_login import qr_login_purge

# QR login requests are kept this long for the security page and inquiries; the events
# appended in each tenant keep the audit after that.
QR_LOGIN_KEEP = dt.timedelta(days=30)


@app.periodic(cron="41 4 * * *", periodic_id="qr_login_purge")
@app.task(
    name="accounts.qr_login_purge",
    queue="maintenance",
    queueing_lock="qr_login_purge",
    pass_context=False,
)
def qr_login_purge_old(timestamp: int) -> int:
    """Daily: delete QR login requests older than 30 days (rows hold no tenant: no RLS)."""
    return qr_login_purge(older_than=QR_LOGIN_KEEP)
