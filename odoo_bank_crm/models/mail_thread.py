from odoo import api, models
from odoo.tools.mail import generate_tracking_message_id

from ..utils import tracking_lang


class MailThread(models.AbstractModel):
    _inherit = 'mail.thread'

    def _track_finalize(self):
        """Automated changes (jobs, the banks' requests) are tracked in the company's language
        (utils.tracking_lang, docs/i18n.md), on every model, Odoo's own included: a Russian
        company's chatter does not read "Not Invoiced → Unpaid" or "Not Paid → Paid"."""
        lang = tracking_lang(self.env)
        if lang != self.env.lang:
            return super(MailThread, self.with_context(lang=lang))._track_finalize()
        return super()._track_finalize()

    @api.model
    def _bank_crm_log_batch(self, notes):
        """Chatter notes on many records of this model in one go (one insert of the messages,
        one of their tracking values), what `_message_log` writes a record at a time. A note
        whose subtype some follower of its record is subscribed to is posted the usual way
        instead, so that they are notified.

        :param notes: [(record, body, tracking value commands, mail.message.subtype or None)]
        """
        if not notes:
            return
        quiet, Followers = [], self.env['mail.followers']
        subtypes = {subtype for _record, _body, _tracking, subtype in notes if subtype}
        followed = {
            (res_id, subtype)
            for subtype in subtypes
            for res_id, recipients in Followers._get_recipient_data(
                self.browse({record.id for record, _body, _tracking, note_subtype in notes if note_subtype == subtype}),
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
        author_id, email_from = self._message_compute_author(raise_on_email=False)
        reply_to = self.env['mail.thread']._notify_get_reply_to(default=email_from)[False]
        note_id = self.env['ir.model.data']._xmlid_to_res_id('mail.mt_note')
        # sudo: as `_message_log` does: notes on records the caller is processing, whatever its rights on messages
        messages = self.sudo()._message_create(
            [
                {
                    'author_id': author_id,
                    'email_from': email_from,
                    'model': self._name,
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
        self.env['mail.tracking.value'].sudo().create(
            [
                dict(values, mail_message_id=message.id)
                for message, (_record, _body, tracking, _subtype) in zip(messages, quiet)
                for _command, _id, values in tracking
            ]
        )

    @api.model
    def _bank_crm_take_tracking(self, records, fnames):
        """Take over the tracking Odoo prepared for `fnames` of `records` (posted at commit, a
        message a record): {record id: {field: initial value}} of those that changed; the
        caller notes them in its own batch. Other fields stay tracked as usual."""
        pending = self.env.cr.precommit.data.get(f'mail.tracking.{self._name}', {})
        taken = {}
        for record in records:
            initial = pending.get(record.id)
            if initial:
                values = {fname: initial.pop(fname) for fname in fnames if fname in initial}
                if values:
                    taken[record.id] = values
        return taken
