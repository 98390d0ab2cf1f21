from odoo import _, api, models


class AccountMoveLine(models.Model):
    _inherit = 'account.move.line'

    def _reconcile_post_hook(self, data):
        """Override of `account`: after any reconciliation that paid (part of) invoices."""
        result = super()._reconcile_post_hook(data)
        (data['not_paid_invoices'] | data['in_payment_invoices'])._bank_crm_on_payment_received()
        return result

    @api.model
    def _bank_crm_tracked_fields(self):
        """The journal item fields Odoo notes on a posted entry when an item is created or
        deleted (see account.move.line create and unlink)."""
        return self.fields_get(
            [
                name
                for name, field in self._fields.items()
                if getattr(field, 'tracking', False) and not getattr(field, 'related', False)
            ]
        )

    def _bank_crm_item_notes(self, event):
        """Odoo's chatter notes "Journal Item #… created/deleted" for these items (posted
        entries only), as account.move.line create and unlink write them one message an item;
        batches here switch those off (`tracking_disable`) and post these notes all at once
        (`mail.thread._bank_crm_log_batch`). Take them after creating, before deleting.

        :param event: 'created' or 'deleted'
        :return: [(entry, body, tracking value commands, subtype)]
        """
        fields = self._bank_crm_tracked_fields()
        empty_values, empty_line = dict.fromkeys(fields), self.browse([False])
        notes = []
        for line in self.filtered(lambda l: l.move_id.posted_before):
            link = line._get_html_link(title=f"#{line.id}")
            if event == 'created':
                tracking, body = line._mail_track(fields, empty_values)[1], _("Journal Item %s created", link)
            else:
                tracking, body = empty_line._mail_track(fields, line)[1], _("Journal Item %s deleted", link)
            if tracking:
                notes.append((line.move_id, body, tracking, None))
        return notes
