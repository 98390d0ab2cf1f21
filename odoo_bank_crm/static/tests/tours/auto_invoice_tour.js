import { registry } from "@web/core/registry";

// The salesperson drags a deal to the stage of an auto-invoice rule (test_auto_invoice_rule.py
// sets up the rule and the deal) and finds its invoice on the card, then on the deal.
const DEAL = "Tour deal: office chairs";
const STAGE = "Contract Signed";

registry.category("web_tour.tours").add("odoo_bank_crm_auto_invoice", {
    url: "/odoo/action-crm.crm_lead_action_pipeline",
    steps: () => [
        {
            content: "The deal is in the pipeline, not invoiced yet",
            trigger: `.o_opportunity_kanban .o_kanban_record:contains('${DEAL}'):not(:has(.o_bank_crm_payment_badge:visible))`,
        },
        {
            content: "Drag the deal to the stage that issues the invoice",
            trigger: `.o_opportunity_kanban .o_kanban_record:contains('${DEAL}')`,
            run: `drag_and_drop(.o_opportunity_kanban .o_kanban_group:has(.o_column_title:contains('${STAGE}')))`,
        },
        {
            content: "The card, now in that stage, shows the invoice waiting for payment",
            trigger: `.o_kanban_group:has(.o_column_title:contains('${STAGE}')) .o_kanban_record:contains('${DEAL}') .o_bank_crm_payment_badge:visible`,
        },
        {
            content: "Open the deal",
            trigger: `.o_kanban_group:has(.o_column_title:contains('${STAGE}')) .o_kanban_record:contains('${DEAL}')`,
            run: "click",
        },
        {
            content: "The deal shows its invoice",
            trigger: ".o_form_view button[name='action_bank_crm_view_invoices']:contains('1')",
            run: "click",
        },
        {
            content: "The invoice is posted",
            trigger: ".o_form_view .o_statusbar_status .o_arrow_button_current:contains('Posted')",
        },
    ],
});
