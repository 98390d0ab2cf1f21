import { registry } from "@web/core/registry";
import { openAccountApp } from "./tour_steps";

registry.category("web_tour.tours").add("odoo_bank_crm_account_menu", {
    url: "/odoo",
    steps: () => [
        ...openAccountApp(),
        {
            content: "The dashboard shows the bank account with its balance",
            trigger: ".o_bank_crm_dashboard .o_kanban_record:contains('Bank') [name='bank_crm_balance']",
        },
        {
            content: "Open the Transactions menu",
            trigger: ".o_main_navbar [data-menu-xmlid='odoo_bank_crm.menu_bank_crm_transactions_root']",
            run: "click",
        },
        {
            content: "Open all transactions",
            trigger: ".o-dropdown--menu [data-menu-xmlid='odoo_bank_crm.menu_bank_crm_transactions']",
            run: "click",
        },
        {
            content: "Transactions are listed with a total",
            trigger: ".o_list_view .o_data_row td[name='payment_ref']:contains('Line 0')",
        },
        {
            content: "The list shows the total of the amounts",
            trigger: ".o_list_view tfoot .o_list_number",
        },
    ],
});
