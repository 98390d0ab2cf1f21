/**
 * A long statement made in the background (`bank.crm.statement.job`, docs/sync.md, "Long
 * statements as a job"): when it is ready, its requester gets a notification with a button
 * that downloads the file (the bus message `bank_crm_statement_ready`).
 */
import { registry } from "@web/core/registry";

export const statementReadyService = {
    dependencies: ["bus_service", "notification"],
    start(env, { bus_service, notification }) {
        bus_service.subscribe("bank_crm_statement_ready", ({ type, title, message, url, button }) => {
            const close = notification.add(message, {
                type,
                title,
                sticky: true,
                buttons: url
                    ? [
                          {
                              name: button,
                              primary: true,
                              onClick: () => {
                                  window.location.assign(url);
                                  close();
                              },
                          },
                      ]
                    : [],
            });
        });
        bus_service.start();
    },
};

registry.category("services").add("bank_crm_statement_ready", statementReadyService);
