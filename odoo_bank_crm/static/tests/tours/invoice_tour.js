import { registry } from "@web/core/registry";

/**
 * From a deal: "Issue invoice" → the wizard → the payment link → the customer's pay page.
 * The payment itself happens on the bank's page (another origin), driven by the Python test.
 */
registry.category("web_tour.tours").add("odoo_bank_crm_invoice_tour", {
    steps: () => [
        {
            content: "Open the Issue Invoice wizard from the deal",
            trigger: ".o_form_view .o_statusbar_buttons button:contains('Issue Invoice')",
            run: "click",
        },
        {
            content: "The wizard opens in amount-only mode with the deal's expected revenue",
            trigger: ".modal .o_bank_crm_invoice_wizard div[name='mode'] input[data-value='amount']:checked",
        },
        {
            content: "Set the amount",
            trigger: ".modal .o_bank_crm_invoice_wizard div[name='amount'] input",
            run: "edit 1500.50",
        },
        {
            content: "Say what the invoice is for",
            trigger: ".modal .o_bank_crm_invoice_wizard div[name='description'] input",
            run: "edit Оплата по договору № 15",
        },
        {
            content: "Issue the invoice",
            trigger: ".modal footer button[name='action_issue']",
            run: "click",
        },
        {
            content: "The payment link is shown, ready to copy",
            trigger: ".modal .o_bank_crm_payment_link_share div[name='url']:contains('/bank_crm/pay/')",
        },
        {
            content: "The link was emailed to the customer",
            trigger: ".modal .o_bank_crm_payment_link_share div[name='sent_date']:not(:empty)",
        },
        {
            content: "Open the pay page as the customer would",
            trigger: ".modal .o_bank_crm_payment_link_share div[name='url']",
            run() {
                window.location.href = this.anchor.textContent.trim();
            },
        },
        {
            content: "The pay page shows the invoice's amount",
            trigger: ".o_bank_crm_pay_page .o_bank_crm_pay_amount:contains('1,500.50')",
        },
        {
            content: "and the SBP QR code",
            trigger: ".o_bank_crm_pay_page .o_bank_crm_pay_qr img[src*='barcode_type=QR']",
        },
        {
            content: "and one Pay button to the bank",
            trigger: ".o_bank_crm_pay_page form.o_bank_crm_pay_form[method='post'][action$='/go'] button.o_bank_crm_pay_button",
        },
    ],
});

registry.category("web_tour.tours").add("odoo_bank_crm_invoice_paid_tour", {
    steps: () => [
        {
            content: "Open the deal's invoices tab",
            trigger: ".o_form_view .o_notebook a.nav-link:contains('Invoices & Payment')",
            run: "click",
        },
        {
            content: "The deal is paid",
            trigger: ".o_form_view div[name='bank_crm_payment_state'] :contains('Paid')",
        },
        {
            content: "Its invoice's link is paid too",
            trigger: ".o_form_view div[name='bank_crm_invoice_ids'] td[name='bank_crm_payment_link_status']:contains('Paid')",
        },
    ],
});
