{
    'name': "Bank CRM: accounts, acquiring and invoices in the CRM",
    'version': '18.0.1.0.0',
    'category': 'Accounting/Accounting',
    'sequence': 60,
    'summary': "Bank accounts and live balances of several banks, T-Bank acquiring, "
               "invoices with payment links, payments matched to deals",
    'description': " ",  # Non-empty string to avoid loading README.md; see static/description/index.html.
    'author': "odoo_bank_crm developers",
    'website': "https://github.com/odoo-bank-crm/odoo_bank_crm",
    'depends': ['crm', 'account', 'account_payment', 'payment', 'base_automation', 'mail'],
    'external_dependencies': {
        'python': ['requests', 'pydantic'],
    },
    'data': [
        'security/bank_crm_security.xml',
        'security/ir.model.access.csv',

        'views/payment_tbank_templates.xml',
        'data/payment_provider_data.xml',
        'data/ir_cron_data.xml',
        'data/product_data.xml',
        'data/bank_crm_shop_data.xml',

        'views/account_journal_views.xml',
        'views/account_bank_statement_line_views.xml',
        'views/account_move_views.xml',
        'views/crm_lead_views.xml',
        'views/payment_provider_views.xml',
        'views/bank_webhook_event_views.xml',
        'views/bank_connection_views.xml',
        'views/bank_crm_shop_order_views.xml',
        'views/res_config_settings_views.xml',
        'views/bank_crm_menus.xml',
    ],
    'demo': [
        'demo/bank_crm_demo.xml',
    ],
    'assets': {
        'web.assets_tests': [
            'odoo_bank_crm/static/tests/tours/**/*',
        ],
    },
    'post_init_hook': 'post_init_hook',
    'uninstall_hook': 'uninstall_hook',
    'application': True,
    'installable': True,
    'license': 'LGPL-3',
}
