{
    'name': "Payment Provider: T-Bank",
    'version': '18.0.1.0.0',
    'category': 'Accounting/Payment Providers',
    'sequence': 350,
    'summary': "T-Bank (Tinkoff) internet acquiring: cards and SBP in roubles, 54-FZ receipts, "
    "refunds and two-stage payments.",
    'author': "odoo_bank_crm developers",
    'website': "https://github.com/odoo-bank-crm/odoo_bank_crm",
    'depends': ['payment'],
    'external_dependencies': {
        'python': ['requests', 'pydantic'],
    },
    'data': [
        'views/payment_provider_views.xml',
        'views/payment_tbank_templates.xml',
        'data/payment_provider_data.xml',  # Depends on views/payment_tbank_templates.xml
    ],
    'pre_init_hook': 'pre_init_hook',
    'post_init_hook': 'post_init_hook',
    'uninstall_hook': 'uninstall_hook',
    'license': 'LGPL-3',
}
