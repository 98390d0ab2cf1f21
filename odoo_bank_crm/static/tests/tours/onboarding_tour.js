import { registry } from "@web/core/registry";
import { openAccountApp } from "./tour_steps";

/**
 * Onboarding on a database with no account (issue #18 §4): from the Account app's empty
 * dashboard to a connected T-Bank Business account with its balance and first transactions.
 * The steps after `openAccountApp()` are the user's path: the test counts their clicks
 * (`run: "click"`) and measures the time, the first sync included (run by the test, as the
 * sync job would, while the tour waits for the card to fill).
 */
registry.category("web_tour.tours").add("odoo_bank_crm_onboarding", {
    url: "/odoo",
    steps: () => [
        ...openAccountApp(),
        {
            content: "The empty dashboard says what to do and offers to add a bank account",
            trigger: ".o_bank_crm_dashboard_empty .o_bank_crm_empty_add_cash",
        },
        {
            content: "Add a bank account",
            trigger: ".o_bank_crm_dashboard_empty .o_bank_crm_empty_add_account",
            run: "click",
        },
        {
            content: "No bank is chosen for the user: pick T-Bank Business",
            trigger: ".modal div[name='kind']:not(:has(input:checked)) input[data-value='tbank_business']",
            run: "click",
        },
        {
            content: "T-Bank Business is the bank chosen, its API filled in",
            trigger: ".modal div[name='kind'] input[data-value='tbank_business']:checked",
        },
        {
            content: "Paste the token issued in the internet bank",
            trigger: ".modal div[name='api_token'] input",
            run: "edit TBankSandboxToken",
        },
        {
            content: "Connect and list the accounts",
            trigger: ".modal button[name='action_fetch_accounts']",
            run: "click",
        },
        {
            content: "The bank's accounts are listed, all chosen",
            trigger: ".modal div[name='line_ids'] .o_data_row:contains('нагрузочных') .o_boolean_toggle input:checked",
        },
        {
            content: "Leave out the sandbox's load-test account (100,000 operations a year): not a customer's",
            trigger: ".modal div[name='line_ids'] .o_data_row:contains('нагрузочных') .o_boolean_toggle input",
            run: "click",
        },
        {
            content: "Add them and start their first sync",
            trigger: ".modal button[name='action_connect']",
            run: "click",
        },
        {
            content: "Back on the dashboard, the new account's card shows its first sync",
            trigger: "body:not(:has(.modal)) .o_bank_crm_dashboard .o_kanban_record .o_bank_crm_sync_progress",
            run() {
                // the test runs the sync job once it reads this (tests/test_onboarding_tour.py)
                console.info("odoo_bank_crm onboarding: the first sync is queued");
            },
        },
        {
            content: "When the sync ends, the card shows the bank's balance and the first transactions",
            trigger:
                ".o_kanban_record:not(.o_kanban_ghost):not(:has(.o_bank_crm_sync_progress)):contains('Основной') " +
                "[name='bank_crm_bank_balance']",
            timeout: 60000,
        },
        {
            content: "Its transactions are counted on the card",
            trigger:
                ".o_kanban_record:not(.o_kanban_ghost):contains('Основной') footer span:contains('transactions')",
            run() {
                const count = parseInt(this.anchor.textContent.replace(/\D/g, ""));
                if (!(count > 0)) {
                    throw new Error(`The first sync booked no transaction (${this.anchor.textContent})`);
                }
            },
        },
    ],
});
