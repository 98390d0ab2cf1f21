from odoo import models


class AccountMoveReversal(models.TransientModel):
    _inherit = 'account.move.reversal'

    def reverse_moves(self, is_modify=False):
        """Credit notes for customers are refunds."""
        if any(move.move_type in ('out_invoice', 'out_receipt') for move in self.move_ids):
            self.env['bank.crm.money.right']._bank_crm_check('can_refund')
        return super().reverse_moves(is_modify=is_modify)
