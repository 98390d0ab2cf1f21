import { registry } from "@web/core/registry";
import { openAccountApp } from "./tour_steps";

/** A clerk whose rights hide balances opens the screens of their work: none is refused. */
registry.category("web_tour.tours").add("odoo_bank_crm_clerk_without_balances", {
    url: "/odoo",
    steps: () => [
        ...openAccountApp(),
        {
            content: "The dashboard shows the bank account without its balance",
            trigger: ".o_bank_crm_dashboard .o_kanban_record:contains('Your rights do not show')",
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
            content: "Transactions are listed",
            trigger: ".o_list_view .o_data_row td[name='payment_ref']:contains('Line 0')",
        },
        {
            content: "Open the search options",
            trigger: ".o_control_panel .o_searchview_dropdown_toggler",
            run: "click",
        },
        {
            content: "Group by account",
            trigger: ".o_group_by_menu .o_menu_item:contains('Account')",
            run: "click",
        },
        {
            content: "The transactions are grouped by account",
            trigger: ".o_list_view .o_group_header:contains('Bank')",
        },
    ],
});
