"""The addon's vocabulary as data (T-Bank acquiring's is payment_tbank's `const.py`)."""

# Transactions left pending longer than this are asked about with GetState.
PENDING_CHECK_AFTER_MINUTES = 15
# (default, minimum, maximum) of the setting: up to a week
PENDING_CHECK_LIMITS = (PENDING_CHECK_AFTER_MINUTES, 0, 7 * 24 * 60)

# Bank connections (statement sync).
BANK_API_TIMEOUT = 60
SYNC_PAGE_SIZE = 1000
SYNC_OVERLAP_DAYS = 3  # each pull re-reads the last days: late bookings are not missed
SYNC_DEFAULT_HISTORY_DAYS = 30  # how far back the first pull goes by default
SYNC_MAX_RETRIES = 4  # per page, on 429 / 5xx / timeouts
SYNC_BACKOFF_SECONDS = 2  # doubled at each retry (or the bank's Retry-After)
# (default, minimum, maximum) of the setting: a wait is never longer than a minute anyway
SYNC_BACKOFF_LIMITS = (SYNC_BACKOFF_SECONDS, 0, 60)
# A scheduled sync stops between pages after this long and continues in the job's next run
# at once: Odoo kills a job past its worker's CPU limit (--limit-time-cpu, 60 s by default).
SYNC_TIME_BUDGET_SECONDS = 40
# (default, minimum, maximum) of the setting: 0 pauses after every page; at most an hour
SYNC_TIME_BUDGET_LIMITS = (SYNC_TIME_BUDGET_SECONDS, 0, 3600)
# first key of the advisory lock held while an account is pulled (the second is the journal's id)
SYNC_LOCK_NAMESPACE = 0x4253594E  # 'BSYN'
