import { registry } from "@web/core/registry";
import { openAccountApp } from "./tour_steps";

// An Account Director opens Account > Payments > To Approve, reads why a manager's
// payment waits for approval, and approves it.
registry.category("web_tour.tours").add("odoo_bank_crm_payment_approval", {
    url: "/odoo",
    steps: () => [
        ...openAccountApp(),
        {
            content: "Open the Payments menu",
            trigger: ".o_main_navbar [data-menu-xmlid='odoo_bank_crm.menu_bank_crm_payments_root']",
            run: "click",
        },
        {
            content: "Open the payments waiting for approval",
            trigger: ".o-dropdown--menu [data-menu-xmlid='odoo_bank_crm.menu_bank_crm_payment_orders_to_approve']",
            run: "click",
        },
        {
            content: "The manager's payment to the supplier waits here; open it",
            trigger: ".o_list_view .o_data_row td[name='partner_id']:contains('Поставщик тура')",
            run: "click",
        },
        {
            content: "The form says why it needs a director",
            trigger: ".o_form_view .alert-warning:contains('largest single payment')",
        },
        {
            content: "Approve it",
            trigger: ".o_form_view .o_form_statusbar button[name='action_approve']",
            run: "click",
        },
        {
            content: "The payment is approved, ready to go to the bank",
            trigger: ".o_form_view .o_statusbar_status button.o_arrow_button_current:contains('Approved')",
        },
        {
            content: "It can now be sent to the bank",
            trigger: ".o_form_view .o_form_statusbar button[name='action_send_to_bank']",
        },
    ],
});
