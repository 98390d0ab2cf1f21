from odoo import api, models
from ..utils import tracking_lang
from .odoo_compat import log_notes_batch, take_pending_tracking


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
        """Chatter notes on many records of this model in one go, what `_message_log` writes a
        record at a time (odoo_compat.log_notes_batch). A note whose subtype some follower of
        its record is subscribed to is posted the usual way instead, so that they are notified.

        :param notes: [(record, body, tracking value commands, mail.message.subtype or None)]
        """
        log_notes_batch(self, notes)

    @api.model
    def _bank_crm_take_tracking(self, records, fnames):
        """Take over the tracking Odoo prepared for `fnames` of `records` (posted at commit, a
        message a record): {record id: {field: initial value}} of those that changed; the
        caller notes them in its own batch (odoo_compat.take_pending_tracking). Other fields
        stay tracked as usual."""
        return take_pending_tracking(records, fnames)
