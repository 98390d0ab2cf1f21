from datetime import timedelta

from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError

from .. import const
from ..bank_api import BankError
from ..adapters import ADAPTERS, adapter_for, provider_selection
from ..models.odoo_compat import trigger_cron_now
from ..utils import notification_action


class BankCrmAddAccountWizard(models.TransientModel):
    """Account > Add account: pick a bank → credentials → test → the bank's accounts with
    their balances, all preselected → journals created or linked → the first sync, queued
    for the sync job (progress on the dashboard's cards)."""

    _name = 'bank.crm.add.account.wizard'
    _description = "Add a Bank Account"

    step = fields.Selection([('bank', "Bank"), ('accounts', "Accounts")], default='bank', required=True)
    # the registered banks, then a cash desk; no default: the user picks their bank
    kind = fields.Selection(selection=provider_selection() + [('cash', "Cash Account")], string="Bank", required=True)
    connection_id = fields.Many2one(
        'bank.connection',
        string="Existing Connection",
        domain="[('provider_code', '=', kind), ('company_id', '=', current_company_id)]",
    )
    name = fields.Char(string="Connection Name")
    api_url = fields.Char(string="API URL")
    api_token = fields.Char(string="API Token")
    sync_start_date = fields.Date(
        string="Sync From",
        default=lambda self: fields.Date.context_today(self) - timedelta(days=const.SYNC_DEFAULT_HISTORY_DAYS),
    )
    line_ids = fields.One2many('bank.crm.add.account.wizard.line', 'wizard_id', string="Accounts Found")
    cash_name = fields.Char(string="Cash Account Name")
    cash_currency_id = fields.Many2one(
        'res.currency', string="Currency", default=lambda self: self.env.company.currency_id
    )

    @api.onchange('kind')
    def _onchange_kind(self):
        if self.kind in ADAPTERS:
            self.api_url = self._bank_crm_default_api_url(self.kind)
            self.name = dict(self._fields['kind']._description_selection(self.env))[self.kind]

    def _bank_crm_default_api_url(self, kind):
        """The bank's production API, unless the system parameter `odoo_bank_crm.api_url.<bank>`
        points it elsewhere (the demo and the tests: the bank sandbox), so that connecting
        asks only for the token."""
        # sudo: a system parameter (only administrators set it), read to prefill the form
        parameter = self.env['ir.config_parameter'].sudo().get_param(f'odoo_bank_crm.api_url.{kind}')
        return parameter or adapter_for(kind).default_url

    def _reopen(self):
        return {
            'type': 'ir.actions.act_window',
            'res_model': self._name,
            'res_id': self.id,
            'view_mode': 'form',
            'target': 'new',
            'name': _("Add an Account"),
            'context': {'dialog_size': 'extra-large'},  # the accounts' numbers and balances in full
        }

    def _check_connection_company(self):
        """The accounts are added to the current company: only its own bank connections
        may feed them (another company's token would book its money here)."""
        connection = self.connection_id
        if connection and connection.company_id != self.env.company:
            raise UserError(
                _(
                    "The connection %(connection)s belongs to %(company)s: "
                    "add its accounts while working in that company.",
                    connection=connection.name,
                    company=connection.company_id.name,
                )
            )

    def action_fetch_accounts(self):
        """Test the credentials and list the bank's accounts with their balances."""
        self.ensure_one()
        if self.kind == 'cash':
            return self.action_create_cash()
        if not self.env.user.has_group('base.group_system'):
            raise UserError(
                _("Only administrators connect banks: the bank's token gives access to the company's money.")
            )
        self._check_connection_company()
        connection = self.connection_id
        if not connection:
            if not (self.api_token and self.api_url):
                raise UserError(_("Enter the API token the bank issued for this integration."))
            connection = self.env['bank.connection'].create(
                {
                    'name': self.name or adapter_for(self.kind).label,
                    'provider_code': self.kind,
                    'api_url': self.api_url,
                    'api_token': self.api_token,
                }
            )
            # the token now lives on the connection only (administrators); not in this wizard's row
            self.write({'connection_id': connection.id, 'api_token': False})
        try:
            accounts = connection._fetch_accounts()
        except BankError as error:
            raise UserError(_("The bank did not accept the connection: %(error)s", error=error)) from None
        journals = self.env['account.journal'].search(
            [
                ('type', '=', 'bank'),
                ('company_id', '=', self.env.company.id),
                ('bank_acc_number', 'in', [account.account_number for account in accounts]),
            ]
        )
        by_number = {journal.bank_acc_number: journal for journal in journals}
        currencies = {
            c.name: c
            for c in self.env['res.currency']
            .with_context(active_test=False)
            .search([('name', 'in', list({account.currency for account in accounts}))])
        }
        self.write(
            {
                'step': 'accounts',
                'line_ids': [Command.clear()]
                + [
                    Command.create(
                        {
                            'selected': True,
                            'account_ref': account.bank_account_id,
                            'account_number': account.account_number,
                            'bic': account.bic,
                            'account_name': account.name,
                            'currency_id': currencies.get(account.currency, self.env.company.currency_id).id,
                            'balance': float(account.balance) if account.balance is not None else 0.0,
                            'journal_id': by_number.get(account.account_number, self.env['account.journal']).id,
                        }
                    )
                    for account in accounts
                ],
            }
        )
        return self._reopen()

    def action_connect(self):
        """Create or link a bank journal per chosen account and queue their first sync.

        The first sync reads months of history: it runs in the background like "Sync Now"
        (the sync cron, woken at the commit), never in this request. The wizard closes to
        the dashboard at once, where each new account's card shows the sync's progress,
        pushed by the bus; the requester is notified when it ends (docs/sync.md, "First
        sync of a new account")."""
        self.ensure_one()
        if not self.env.user.has_group('base.group_system'):
            raise UserError(
                _("Only administrators connect banks: the bank's token gives access to the company's money.")
            )
        chosen = self.line_ids.filtered('selected')
        if not chosen:
            raise UserError(_("Choose at least one account."))
        self._check_connection_company()
        journals = self.env['account.journal']
        for line in chosen:
            journals |= line._link_or_create_journal(self.connection_id, self.sync_start_date)
        connection = self.connection_id
        connection.write({'sync_requested_at': fields.Datetime.now(), 'sync_requested_uid': self.env.uid})
        trigger_cron_now(self.env, 'odoo_bank_crm.cron_bank_sync')
        if not connection.webhook_enabled:
            # instant updates: a failure is shown on the connection, never blocks connecting
            connection._bank_crm_subscribe_webhooks()
        action = self.env['ir.actions.act_window']._for_xml_id('odoo_bank_crm.account_journal_action')
        action['target'] = 'main'
        return notification_action(
            _(
                "%(count)s accounts added. Their first sync has started: its progress shows on their cards, "
                "and you will be told when it ends.",
                count=len(journals),
            ),
            next=action,
        )

    def action_create_cash(self):
        self.ensure_one()
        if not self.cash_name:
            raise UserError(_("Name the cash account, e.g. \"Office cash desk\"."))
        journal = self.env['account.journal'].create(
            {
                'name': self.cash_name,
                'type': 'cash',
                'currency_id': self.cash_currency_id != self.env.company.currency_id and self.cash_currency_id.id,
            }
        )
        action = self.env['ir.actions.act_window']._for_xml_id('odoo_bank_crm.account_journal_action')
        action['domain'] = [('id', '=', journal.id)]
        return action


class BankCrmAddAccountWizardLine(models.TransientModel):
    _name = 'bank.crm.add.account.wizard.line'
    _description = "Bank Account Found"

    wizard_id = fields.Many2one('bank.crm.add.account.wizard', required=True, ondelete='cascade')
    selected = fields.Boolean(string="Add")
    account_ref = fields.Char(required=True)
    account_number = fields.Char(required=True)
    bic = fields.Char(string="BIC")
    account_name = fields.Char(string="Name at the Bank")
    currency_id = fields.Many2one('res.currency', required=True)
    balance = fields.Monetary()
    journal_id = fields.Many2one(
        'account.journal',
        string="Existing Journal",
        help="An Odoo bank journal of this account number, linked instead of creating one.",
    )

    def _link_or_create_journal(self, connection, sync_start_date):
        self.ensure_one()
        values = {
            'bank_crm_connection_id': connection.id,
            'bank_crm_bank_account_ref': self.account_ref,
            'bank_crm_sync_start_date': sync_start_date,
        }
        if self.journal_id:
            self.journal_id.write(values)
            return self.journal_id
        bank = self.env['res.bank'].search([('bic', '=', self.bic)], limit=1) if self.bic else self.env['res.bank']
        company = self.env.company
        partner_bank = self.env['res.partner.bank'].search(
            [('acc_number', '=', self.account_number), ('partner_id', '=', company.partner_id.id)], limit=1
        )
        if not partner_bank:
            partner_bank = self.env['res.partner.bank'].create(
                {
                    'acc_number': self.account_number,
                    'partner_id': company.partner_id.id,
                    'bank_id': bank.id,
                    'currency_id': self.currency_id.id,
                }
            )
        self.currency_id.active = True
        return self.env['account.journal'].create(
            {
                'name': f"{connection.name}: {self.account_name or self.account_number[-4:]}",
                'type': 'bank',
                'bank_account_id': partner_bank.id,
                'currency_id': self.currency_id.id if self.currency_id != company.currency_id else False,
                **values,
            }
        )
