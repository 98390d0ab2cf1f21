"""The bank sandbox's volume account, set up for the statement benchmarks (`sync`,
`sync_crash`): a fresh sandbox whose T-Bank business account holds exactly N confirmed
operations spread over the days before today."""

import json
import math
import shutil
import urllib.request
from datetime import datetime, timedelta, timezone

import harness

ACCOUNT = "40702810910000000099"  # the sandbox's volume account
PER_DAY = 300  # generated operations per day of the window (the sandbox's default account has ~274)


def admin_post(port, path, body):
    """POST `body` (JSON) to the sandbox's admin API on `port`: its JSON answer."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())


def window_days(operations, days=None):
    """The days the operations span: `days`, or operations / PER_DAY, at least 7."""
    return days or max(7, math.ceil(operations / PER_DAY))


def start_with_statement(name, operations, days):
    """Start a fresh sandbox (state folder `.state/sandbox-<name>`, log `<name>-sandbox.log`)
    whose volume account holds exactly `operations` confirmed operations between `days` days
    ago and today 00:00 UTC.

    :return: (sandbox process, its port, date_from, today, the account as the sandbox answered)
    """
    port = harness.free_port()
    state = harness.ROOT / ".state" / f"sandbox-{name}"
    shutil.rmtree(state, ignore_errors=True)  # the generated period is anchored at the state's creation
    sandbox = harness.start_sandbox(port, state, f"{name}-sandbox.log")
    try:
        today = datetime.now(timezone.utc).date()
        date_from = today - timedelta(days=days)
        account = admin_post(
            port,
            "/_admin/business/accounts",
            {
                "bank": "tbank_business",
                "account": ACCOUNT,
                "currency": "RUB",
                "generated": {
                    "count": operations,
                    "seed": 1,
                    "start": f"{date_from.isoformat()}T00:00:00Z",
                    "end": f"{today.isoformat()}T00:00:00Z",
                    "unconfirmed_days": 0,
                },
            },
        )
    except BaseException:
        harness.stop(sandbox)
        raise
    return sandbox, port, date_from, today, account
