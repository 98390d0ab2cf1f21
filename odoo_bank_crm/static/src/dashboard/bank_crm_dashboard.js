/**
 * The Account dashboard (a kanban of bank and cash journals):
 * - an empty state that says what to do and offers to add a bank or cash account;
 * - on each account's card, the live progress of a sync someone asked for (the first sync
 *   of a new account, "Sync Now"), pushed by the bus (`bank.sync.run._bank_crm_push_progress`),
 *   and of a large 1C import (`bank.crm.onec.import.job`, the same message with `onec_import`).
 */
import { Component, onMounted, onWillStart, onWillUnmount, useState } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { user } from "@web/core/user";
import { useService } from "@web/core/utils/hooks";
import { standardFieldProps } from "@web/views/fields/standard_field_props";
import { KanbanRenderer } from "@web/views/kanban/kanban_renderer";
import { kanbanView } from "@web/views/kanban/kanban_view";

const ADD_ACCOUNT_ACTION = "odoo_bank_crm.bank_crm_add_account_wizard_action";
/** While a sync shows and the bus is not connected, the card reloads this often (ms). */
const RELOAD_WITHOUT_BUS_MS = 5000;
let lastReloadWithoutBus = 0; // one reload of the dashboard for all its cards

export class BankCrmDashboardRenderer extends KanbanRenderer {
    static template = "odoo_bank_crm.DashboardRenderer";

    setup() {
        super.setup();
        this.actionService = useService("action");
        this.addRights = useState({ canAdd: false });
        onWillStart(async () => {
            // the same groups as the Add Account menu
            const [system, director] = await Promise.all([
                user.hasGroup("base.group_system"),
                user.hasGroup("odoo_bank_crm.group_bank_crm_director"),
            ]);
            this.addRights.canAdd = system || director;
        });
    }

    openAddAccount(kind) {
        return this.actionService.doAction(ADD_ACCOUNT_ACTION, {
            additionalContext: kind ? { default_kind: kind } : {},
            onClose: () => this.props.list.model.load(),
        });
    }
}

export const bankCrmDashboardView = { ...kanbanView, Renderer: BankCrmDashboardRenderer };
registry.category("views").add("bank_crm_dashboard", bankCrmDashboardView);

export class BankCrmSyncProgress extends Component {
    static template = "odoo_bank_crm.SyncProgress";
    static props = { ...standardFieldProps };

    setup() {
        this.busService = useService("bus_service");
        this.live = useState({ progress: null });
        this.onProgress = (payload) => {
            if (payload.journal_id !== this.props.record.resId) {
                return;
            }
            if (payload.state === "running") {
                this.live.progress = payload;
            } else {
                // ended (done, failed, paused, skipped): the card reloads its balances
                this.live.progress = null;
                this.props.record.model.load();
            }
        };
        this.busService.subscribe("bank_crm_sync_progress", this.onProgress);
        // A server whose websocket port is not proxied (e.g. `make demo`, prefork without a
        // proxy) delivers no bus notification: the card then reloads itself while it shows
        // a sync, so it never stays on "queued". With the bus connected, the push does it.
        onMounted(() => {
            this.timer = setInterval(() => {
                const due = Date.now() - lastReloadWithoutBus >= RELOAD_WITHOUT_BUS_MS / 2;
                if (this.progress && this.busService.workerState !== "CONNECTED" && due) {
                    lastReloadWithoutBus = Date.now();
                    this.props.record.model.load();
                }
            }, RELOAD_WITHOUT_BUS_MS);
        });
        onWillUnmount(() => {
            clearInterval(this.timer);
            this.busService.unsubscribe("bank_crm_sync_progress", this.onProgress);
        });
    }

    get progress() {
        return this.live.progress || this.props.record.data[this.props.name];
    }
}

registry.category("fields").add("bank_crm_sync_progress", {
    component: BankCrmSyncProgress,
    supportedTypes: ["json"],
});
