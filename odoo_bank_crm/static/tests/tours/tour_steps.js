/**
 * Steps the addon's tours share.
 */

/** From the home screen, open the Account app. */
export function openAccountApp() {
    return [
        {
            content: "Open the apps menu",
            trigger: ".o_navbar_apps_menu button",
            run: "click",
        },
        {
            content: "Open the Account app",
            trigger: ".o_app[data-menu-xmlid='odoo_bank_crm.menu_bank_crm_root']",
            run: "click",
        },
    ];
}
