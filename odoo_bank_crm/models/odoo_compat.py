"""Where the addon relies on how Odoo behaves rather than on its public API.

Each piece is pinned by a test in tests/test_odoo_compat.py, so that an Odoo
upgrade that changes the behaviour fails there first, with a clear name.
"""

import logging
import os
import threading

import psycopg2
from psycopg2 import sql as pgsql

from markupsafe import escape

from odoo import sql_db
from odoo.sql_db import Cursor
from odoo.tools.mail import generate_tracking_message_id
from odoo.tools.translate import get_translation

_logger = logging.getLogger(__name__)

# account_payment's `_post_process` message (18.0), word for word: the batched booking
# writes it as Odoo does, in Odoo's own translation (`payment_posted_message`).
PAYMENT_POSTED_MESSAGE = "The payment related to the transaction with reference %(ref)s has been posted: %(link)s"


def can_commit(env):
    """Whether a long job may commit as it goes (a sync page, a sent invoice).

    Not inside a test, which must stay one transaction. Decided from the cursor
    itself, so that it holds under any test runner (Odoo's, pytest-odoo, plain
    unittest) without a flag only one of them sets:
    - a TransactionCase's cursor is a real cursor whose commit Odoo's test case
      replaces, on the instance, by one that raises;
    - an HttpCase's requests (and anything under a registry in test mode) run on
      a `TestCursor`, whose commit only moves a savepoint.
    Outside tests, a job's cursor is a plain `Cursor` with its own commit.
    """
    cr = env.cr
    if not isinstance(cr, Cursor):  # TestCursor (a BaseCursor, not a Cursor)
        return False
    return 'commit' not in vars(cr)


def payment_posted_message(env, reference, link):
    """The message account_payment's `_post_process` logs once a transaction's payment is
    posted, translated from account_payment's own terms, as its `_()` does there (a `_()`
    here would look the term up in this addon's)."""
    return get_translation(
        'account_payment', env.lang or 'en_US', PAYMENT_POSTED_MESSAGE, {'ref': reference, 'link': link}
    )


class _CronWakeUp:
    """Wakes Odoo's cron workers up, as `ir.cron._notifydb` does (NOTIFY cron_trigger on the
    `postgres` database, where they listen), on a connection this process keeps open:
    Odoo's own opens and closes one each time (a new PostgreSQL backend per notification,
    a few milliseconds of both cores for every bank notification)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.pid = self.connection = None

    def __call__(self, dbname):
        with self.lock:
            for attempt in (1, 2):
                try:
                    if self.connection is None or self.connection.closed or self.pid != os.getpid():
                        self.pid, self.connection = os.getpid(), None  # never reuse a parent's after a fork
                        _dbname, info = sql_db.connection_info_for('postgres')
                        self.connection = psycopg2.connect(**info)
                        self.connection.autocommit = True
                    with self.connection.cursor() as cr:
                        cr.execute(
                            pgsql.SQL("SELECT {}('cron_trigger', %s)").format(
                                pgsql.Identifier(os.getenv('ODOO_NOTIFY_FUNCTION', 'pg_notify'))
                            ),
                            [dbname],
                        )
                    return
                except psycopg2.Error as error:
                    self.connection = None
                    if attempt == 2:
                        # the job still runs when the cron worker next wakes up by itself
                        _logger.warning("Could not wake the cron workers up: %s", error)


wake_up_cron_workers = _CronWakeUp()


def trigger_cron_now(env, xmlid):
    """Run the job `xmlid` as soon as this transaction commits: what `ir.cron._trigger()`
    does, lean enough for a request the bank is waiting on: one plain insert of the
    trigger row, and the cron workers woken up after the commit on a connection this
    process keeps open (Odoo's `_notifydb` opens a new one each time).

    What it relies on, pinned by tests/test_odoo_compat.py (TestCronTriggers): the
    `ir_cron_trigger` columns; and that a trigger committed while a run of the job is going
    on outlives that run. At its end, Odoo deletes the job's triggers due by then
    (`_reschedule_later`), on the cursor that took the job, whose REPEATABLE READ snapshot
    predates the run: a trigger committed later is not seen, so not deleted, and the job
    runs again for the work that trigger announces (which the run may have missed).
    """
    env.cr.execute(
        """
        INSERT INTO ir_cron_trigger (cron_id, call_at, create_uid, create_date, write_uid, write_date)
        VALUES (%(cron)s, now() AT TIME ZONE 'UTC', %(uid)s, now() AT TIME ZONE 'UTC',
                %(uid)s, now() AT TIME ZONE 'UTC')
        """,
        {'cron': env['ir.model.data']._xmlid_to_res_id(xmlid), 'uid': env.uid},
    )
    dbname = env.cr.dbname
    env.cr.postcommit.add(lambda: wake_up_cron_workers(dbname))


# === Booking T-Bank payments in batches (docs/booking.md) === #

# The payment values account's `create` (18.0) pops as "hacks": given any of them (even
# account_payment's `write_off_line_vals: []`), it generates that payment's journal entry
# at once, one `account.move.create` per payment.
PAYMENT_ENTRY_HACK_KEYS = ('write_off_line_vals', 'force_balance', 'line_ids')


def create_payments(env, vals_list):
    """`account.payment.create(vals_list)` as account_payment's `_create_payment` calls it
    (with `write_off_line_vals: []`), the payments' journal entries created together.

    account's `create` (18.0) pops `write_off_line_vals`, `force_balance` and `line_ids`,
    creates the payments in one go, then, for each payment given one of them (even an
    empty list), calls `_generate_journal_entry` on that payment alone: one
    `account.move.create` (move, lines, sequence, mail thread) per payment, then
    propagates the values of fields related to `move_id` to its entry. Called on many
    payments, `_generate_journal_entry` creates all their entries in one
    `account.move.create` with the same values (`_generate_move_vals`, whose lines come
    from `_prepare_move_line_default_vals`, where an empty write-off and none are the
    same). So the payments are created without these keys, their entries generated
    together, and the related fields propagated as account's `create` does.

    Only for payments without write-off, forced balance or given lines (the batched
    booking's: no early payment discount); for others, Odoo's own `create`.

    `_generate_journal_entry` then writes each payment's entry on it, one `write` a
    payment: `link_payment_entries` (below) writes them together.

    Pinned by tests/test_odoo_compat.py (TestCreatePayments): the same payments,
    entries and journal items as account's `create`.

    :param list vals_list: `account.payment` values, as `_create_payment` gives them
    :return: the payments, in the order of `vals_list`, each with its journal entry
    """
    vals_list = [dict(vals) for vals in vals_list]
    for vals in vals_list:
        hacks = {key: vals.pop(key) for key in PAYMENT_ENTRY_HACK_KEYS if key in vals}
        if any(value not in (None, []) for value in hacks.values()):
            raise ValueError(f"create_payments: no write-off, forced balance or lines here ({sorted(hacks)})")
    Payment = env['account.payment']
    payments = Payment.create(vals_list)
    # account's `_generate_journal_entry`, its `pay.write(...)` per payment written together
    need_move = payments.filtered(lambda pay: not pay.move_id and pay.outstanding_account_id)
    if payment_entry_generation_is_accounts(env):
        moves = env['account.move'].create([pay._generate_move_vals() for pay in need_move])
        link_payment_entries(need_move, moves)
    else:  # another module adds to the entries' making: its own way, one write a payment
        need_move._generate_journal_entry()
    # account's `create`: "propagate the related fields to the move as it is being created
    # after the payment"
    for payment, vals in zip(payments, vals_list, strict=True):
        move_vals = {
            fname: value
            for fname, value in vals.items()
            if (Payment._fields[fname].related or '').split('.')[0] == 'move_id'
        }
        if move_vals:
            payment.move_id.write(move_vals)
    return payments


def message_post_batch(posts):
    """`record.message_post(body=body, author_id=author_id)` for many posts at once: the same
    `mail.message` records, written in one `_message_create` (two when a record had no
    message yet: its first one is the parent of the next ones).

    What mail's `message_post` (18.0) writes for such a post (a note: type notification,
    subtype `mail.mt_note`, no partner, no attachment), and how it is reproduced here
    for all the posts of one model together:
    - the author and `email_from`: `_message_compute_author(author_id, None)`, per author;
    - `record_name` (the record's display name in sudo, in the user's language when the
      context has none: `_fallback_lang`), `record_alias_domain_id`
      (`_mail_get_alias_domains`), `record_company_id` (`_mail_get_companies`) and
      `reply_to` (`_notify_get_reply_to`, per author's `email_from`): each a batch method;
    - `parent_id` (`_message_compute_parent_id` in a flat thread): the record's first
      message other than a user notification, one read for all records;
    - `email_add_signature`, `subject`, `partner_ids`, `attachment_ids`, `author_guest_id`:
      their values for such a post;
    - `_message_post_after_hook`, called for each record as `message_post` does;
    - no author subscribed (a notification), and no one notified: `_notify_thread`
      notifies the record's followers subscribed to the note's subtype. A record with
      any (`mail.followers._get_recipient_data`), or a post by a public user, takes
      `message_post` itself, in order, so that nothing it would send is missed.

    Pinned by tests/test_odoo_compat.py (TestMessagePostBatch): the same messages as
    `message_post`, field by field.

    :param list posts: [(record, body, author partner id)], records of one model
    :return: the messages, in the order of `posts`
    """
    if not posts:
        return None
    model = posts[0][0].browse()
    if any(record._name != model._name for record, _body, _author in posts):
        raise ValueError("message_post_batch: posts on records of one model at a time")
    model = model._fallback_lang()
    env = model.env
    records = model.browse(dict.fromkeys(record.id for record, _body, _author in posts))
    subtype_id = env['ir.model.data']._xmlid_to_res_id('mail.mt_note')
    followed = {
        res_id
        for res_id, recipients in env['mail.followers']._get_recipient_data(records, 'notification', subtype_id).items()
        if recipients
    }
    messages = {}
    if env.user._is_public():
        followed = set(records.ids)
    quiet = []
    for index, (record, body, author_id) in enumerate(posts):
        if record.id in followed:
            messages[index] = model.browse(record.id).message_post(body=body, author_id=author_id)
        else:
            quiet.append((index, record.id, body, author_id))
    if quiet:
        quiet_records = model.browse(dict.fromkeys(res_id for _index, res_id, _body, _author in quiet))
        authors = {
            author_id: model._message_compute_author(author_id, None, raise_on_email=True)
            for author_id in dict.fromkeys(author_id for _index, _res_id, _body, author_id in quiet)
        }
        reply_tos = {
            email_from: quiet_records._notify_get_reply_to(default=email_from)
            for email_from in dict.fromkeys(email_from for _author_id, email_from in authors.values())
        }
        # sudo: as message_post, which reads these in sudo (record access is checked by the message's create)
        alias_domains = quiet_records.sudo()._mail_get_alias_domains(default_company=env.company)
        companies = quiet_records._mail_get_companies(default=env.company)
        names = {record.id: record.sudo().display_name for record in quiet_records}  # sudo: as message_post
        parents = {}
        if model._mail_flat_thread:
            # sudo: as `_message_compute_parent_id`, for the id only
            Messages = env['mail.message'].sudo()
            first_messages = Messages._read_group(
                [
                    ('res_id', 'in', quiet_records.ids),
                    ('model', '=', model._name),
                    ('message_type', '!=', 'user_notification'),
                ],
                ['res_id'],
                ['id:min'],
            )
            for res_id, first_id in first_messages:
                parents[res_id] = first_id

        def values(res_id, body, author_id):
            author_id, email_from = authors[author_id]
            return {
                'email_add_signature': True,
                'record_name': names[res_id],
                'author_id': author_id,
                'author_guest_id': False,
                'email_from': email_from,
                'model': model._name,
                'res_id': res_id,
                'body': escape(body),
                'message_type': 'notification',
                'parent_id': parents.get(res_id, False),
                'subject': False,
                'subtype_id': subtype_id,
                'partner_ids': [],
                'record_alias_domain_id': alias_domains[res_id].id,
                'record_company_id': companies[res_id].id,
                'reply_to': reply_tos[email_from][res_id],
                'attachment_ids': [],
            }

        # a record's first message is the parent of the next ones (flat thread): written first
        rounds = [[], []]
        for post in quiet:
            res_id = post[1]
            if model._mail_flat_thread and res_id not in parents:
                parents[res_id] = False
                rounds[0].append(post)
            else:
                rounds[1].append(post)
        for round_posts in rounds:
            if not round_posts:
                continue
            values_list = [values(res_id, body, author_id) for _index, res_id, body, author_id in round_posts]
            created = model._message_create(values_list)
            for (index, res_id, _body, _author_id), message, message_values in zip(
                round_posts, created, values_list, strict=True
            ):
                messages[index] = message
                if model._mail_flat_thread and not parents[res_id]:
                    parents[res_id] = message.id
                model.browse(res_id)._message_post_after_hook(message, message_values)
    return env['mail.message'].concat(*(messages[index] for index in range(len(posts))))


# === Odoo's internals behind one door (#14 §3): reconciliation, chatter, automations, reads === #
#
# Each function below is the only place where the addon relies on one of Odoo's private
# methods, context flags or data structures. docs/architecture.md lists them, why no
# public API does the job, and the test of tests/test_odoo_compat.py that pins each.

# The context flags account (18.0) reads when journal items of a posted entry are written
# outside the entry's own form: `skip_readonly_check` (account.move.line `write`: posted
# items' balance and account are read-only otherwise), `skip_invoice_sync` (account.move's
# `_sync_dynamic_lines`: no tax or payment term line recomputed for a bank entry).
ENTRY_ITEMS_CONTEXT = {'skip_readonly_check': True, 'skip_invoice_sync': True}


def statement_line_items(line):
    """The journal items of a statement line's entry, as account's `_seek_for_lines` (18.0)
    splits them: (liquidity, suspense, other). The liquidity item books on the journal's
    account, the suspense item on its suspense account (what is not matched yet), the
    others are what a reconciliation put there (receivables, fees, ...). account has no
    public method for this split (its own reconciliation, in the enterprise
    `account_accountant`, calls the same one).

    Pinned by TestStatementEntryItems.
    """
    line.ensure_one()
    return line._seek_for_lines()


def entry_items_model(env, companies):
    """`account.move.line` for writing the items of the posted entries of statement lines in
    a batch: account's flags for it (`ENTRY_ITEMS_CONTEXT`), Odoo's per-item chatter off
    (`tracking_disable`: the batch writes its notes at once, `log_notes_batch`), and no
    exchange difference sought when reconciling (`no_exchange_difference`) where none can
    arise: the caller reconciles in the company's currency only, and no company of the batch
    has cash-basis taxes (`tax_exigibility`), whose entries the same search creates.

    Pinned by TestStatementEntryItems.
    """
    context = {**ENTRY_ITEMS_CONTEXT, 'tracking_disable': True}
    if not any(companies.mapped('tax_exigibility')):
        context['no_exchange_difference'] = True
    return env['account.move.line'].with_context(**context)


def rewrite_entry_items(moves, items_model, create=(), update=(), delete=None):
    """Create, change and delete journal items of posted entries (`moves`) together, the
    entries checked balanced once, at the end, for all of them: account's
    `_check_balanced` context manager (18.0), as account's own statement line
    synchronisation and `write` of an entry use it (each change alone would leave its entry
    unbalanced, and a check per entry costs a query each). The posted entries' items are
    written with account's flags (`ENTRY_ITEMS_CONTEXT`) and deleted with `force_delete`
    (account.move.line `unlink` refuses items of posted entries otherwise).

    :param moves: account.move, every entry whose items change
    :param items_model: account.move.line in the environment to create the items in
        (`entry_items_model`)
    :param create: values of the new items
    :param update: [(account.move.line, values)], each item written in its own environment,
        with `skip_readonly_check` added
    :param delete: account.move.line to delete, in its own environment, or None
    :return: the created items
    :raise UserError: an entry is not balanced at the end (nothing is kept: the caller's
        savepoint rolls back)

    Pinned by TestStatementEntryItems.
    """
    with moves._check_balanced({'records': moves}):
        created = items_model.create(list(create))
        for item, values in update:
            item.with_context(skip_readonly_check=True).write(values)
        if delete:
            delete.with_context(force_delete=True).unlink()
    return created


def reconcile_groups(items_model, groups):
    """Reconcile the journal items of each group together, all the groups in one go:
    account's `_reconcile_plan` (18.0), which `reconcile()` calls with one group. Given many,
    it makes their partials, full reconciliations and the invoices' payment states in one
    batch; `reconcile()` group by group costs the same queries again for each group.

    Pinned by TestStatementEntryItems: each group reconciled with itself only.

    :param items_model: account.move.line in the environment to reconcile in
    :param groups: [account.move.line], the items of each group (one prefetch set for all
        of them saves reads)
    """
    items_model._reconcile_plan(groups)


def take_pending_tracking(records, fnames):
    """Take over the tracking mail (18.0) prepared for `fnames` of `records` (it would post
    them at commit, one message a record): {record id: {field: initial value}} of those
    that changed, for the caller to note in its own batch (`log_notes_batch`). Other fields
    stay tracked as usual.

    mail keeps the initial values of tracked fields, from the first change of a
    transaction, in `cr.precommit.data['mail.tracking.<model>']` ({record id: {field:
    value}}), and `_track_finalize` (a precommit hook) pops them to post the messages: no
    public method hands them over.

    Pinned by TestPendingTracking.
    """
    pending = records.env.cr.precommit.data.get(f'mail.tracking.{records._name}', {})
    taken = {}
    for record in records:
        initial = pending.get(record.id)
        if initial:
            values = {fname: initial.pop(fname) for fname in fnames if fname in initial}
            if values:
                taken[record.id] = values
    return taken


def log_notes_batch(model, notes):
    """Chatter notes on many records of one model in one go (one insert of the messages, one
    of their tracking values): what mail's `_message_log` (18.0) writes a record at a time
    (its `_message_log_batch` takes one body a record but no tracking values for more than
    one). A note whose subtype some follower of its record is subscribed to is posted with
    `message_post` instead, so that they are notified.

    The messages' values are `_message_log_batch`'s, field by field; they are written by
    `_message_create` (what `_message_log_batch` calls), the tracking values of all the
    messages by one `mail.tracking.value` create (mail.message's create makes them a message
    at a time).

    Pinned by TestLogNotesBatch: the same messages and tracking values as `_message_log`.

    :param model: the records' model (any recordset of it)
    :param notes: [(record, body, tracking value commands, mail.message.subtype or None)]
    :return: None
    """
    if not notes:
        return
    model = model.browse()
    env = model.env
    quiet, Followers = [], env['mail.followers']
    subtypes = {subtype for _record, _body, _tracking, subtype in notes if subtype}
    followed = {
        (res_id, subtype)
        for subtype in subtypes
        for res_id, recipients in Followers._get_recipient_data(
            model.browse({record.id for record, _body, _tracking, note_subtype in notes if note_subtype == subtype}),
            'notification',
            subtype.id,
        ).items()
        if recipients
    }
    for record, body, tracking, subtype in notes:
        if subtype and (record.id, subtype) in followed:
            record.message_post(body=body, subtype_id=subtype.id, tracking_value_ids=tracking)
        else:
            quiet.append((record, body, tracking, subtype))
    if not quiet:
        return
    author_id, email_from = model._message_compute_author(raise_on_email=False)
    reply_to = env['mail.thread']._notify_get_reply_to(default=email_from)[False]
    note_id = env['ir.model.data']._xmlid_to_res_id('mail.mt_note')
    # sudo: as `_message_log` does: notes on records the caller is processing, whatever its rights on messages
    messages = model.sudo()._message_create(
        [
            {
                'author_id': author_id,
                'email_from': email_from,
                'model': model._name,
                'res_id': record.id,
                'record_alias_domain_id': False,
                'record_company_id': False,
                'record_name': False,
                'body': body,
                'message_type': 'notification',
                'is_internal': True,
                'subtype_id': subtype.id if subtype else note_id,
                'email_add_signature': False,
                'message_id': generate_tracking_message_id('message-notify'),
                'reply_to': reply_to,
            }
            for record, body, _tracking, subtype in quiet
        ]
    )
    # the tracking values of all messages in one create (mail.message creates them a message at a time)
    # sudo: tracking values are created by the code only (as mail.message does), for these messages
    env['mail.tracking.value'].sudo().create(
        [
            dict(values, mail_message_id=message.id)
            for message, (_record, _body, tracking, _subtype) in zip(messages, quiet, strict=True)
            for _command, _id, values in tracking
        ]
    )


# === Booking round 3 (issue #16 §1): the payments' entries linked together === #

PAYMENT_ENTRY_LINK_FIELDS = ('move_id', 'state')


def link_payment_entries(payments, moves):
    """`pay.write({'move_id': move.id, 'state': 'in_process'})` for each (payment, entry),
    as account's `_generate_journal_entry` (18.0) does one payment at a time, done as ONE
    ORM write: a write per payment cost a `modified` pair each (what depends on
    `move_id`), 14 % of a booking batch (docs/booking.md, round 3).

    What `BaseModel.write` (with mail.thread's and account.payment's overrides) does for
    these two fields, once for all the payments: access checks; the tracking prepared
    (`_track_prepare`, unless `tracking_disable`/`mail_notrack`); `write_uid`/`write_date`;
    the written fields protected from recomputation (`state` is computed, written here);
    `modified(['move_id'], before=True)`; each payment's `move_id` and the common `state`
    put in cache and to flush (`Field.write`); `modified` of all written fields; the
    constraints (`_validate_fields`) and `_check_company`. account.payment's `write`
    would add `_synchronize_to_moves`, which ignores these two fields
    (`_get_trigger_fields_to_synchronize`), and nothing else when a `move_id` is given;
    mail.thread's `_message_auto_subscribe` only follows written user or subtype-relation
    fields, none here.

    Pinned by tests/test_odoo_compat.py (TestCreatePayments): the same payments, entries,
    journal items and tracking messages as account's `create`.
    """
    if len(payments) != len(moves):
        raise ValueError("link_payment_entries: one entry per payment")
    if not payments:
        return
    Payment = payments.browse()
    env = payments.env
    if not payment_entry_link_batchable(env):
        # an installed module adds to a payment's write or to what it synchronises: Odoo's own writes
        for pay, move in zip(payments, moves, strict=True):
            pay.write({'move_id': move.id, 'state': 'in_process'})
        return
    payments.check_access('write')
    payments.check_field_access_rights('write', list(PAYMENT_ENTRY_LINK_FIELDS))
    if not env.context.get('tracking_disable') and not env.context.get('mail_notrack'):
        payments._track_prepare(payments._fields)
    fields = [Payment._fields[fname] for fname in (*PAYMENT_ENTRY_LINK_FIELDS, 'write_uid', 'write_date')]
    protected = set()
    for field in fields:
        protected.update(env.registry.field_computed.get(field, [field]))
    written = [field.name for field in fields]
    with env.protecting(protected, payments):
        payments.modified(['move_id'], before=True)
        for pay, move in zip(payments, moves, strict=True):
            Payment._fields['move_id'].write(pay, move.id)
        Payment._fields['state'].write(payments, 'in_process')
        Payment._fields['write_uid'].write(payments, env.uid)
        Payment._fields['write_date'].write(payments, env.cr.now())
        payments.modified(written)
        payments._validate_fields(written)
    payments._check_company(['move_id'])


def payment_entry_link_batchable(env):
    """Whether `account.payment.write` is only base's, mail's and account's, and the
    fields `link_payment_entries` writes are not synchronised to the entries."""
    Payment = env['account.payment']
    modules = {getattr(cls, '_module', None) for cls in type(Payment).__mro__ if 'write' in vars(cls)}
    return modules <= PAYMENT_WRITE_MODULES and not set(PAYMENT_ENTRY_LINK_FIELDS) & set(
        Payment._get_trigger_fields_to_synchronize()
    )


PAYMENT_WRITE_MODULES = {None, '', 'base', 'mail', 'account'}


def payment_entry_generation_is_accounts(env):
    """Whether `account.payment._generate_journal_entry` and `_generate_move_vals` are
    account's own: `create_payments` does what the first does with the second's values; an
    override elsewhere must not be skipped."""
    Payment = env['account.payment']
    modules = {
        getattr(cls, '_module', None)
        for cls in type(Payment).__mro__
        if '_generate_journal_entry' in vars(cls) or '_generate_move_vals' in vars(cls)
    }
    return modules <= PAYMENT_WRITE_MODULES
