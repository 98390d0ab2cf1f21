/**
 * A screen read in Russian (issue #18 §1): every visible label, button, column header,
 * statusbar stage, tab and menu text is compared with the English sources of the installed
 * modules' terms (Odoo's and the addon's .pot, given by the test in the system parameter
 * `odoo_bank_crm.tour_english_sources`); the step fails naming every text still in English.
 * Hidden notebook pages are opened one after the other, so their texts count too.
 */
import { registry } from "@web/core/registry";
import { rpc } from "@web/core/network/rpc";

const SOURCES_PARAMETER = "odoo_bank_crm.tour_english_sources";
const SCREEN = ".o_action_manager .o_view_controller, .modal .o_form_view";
const LATIN_RUN = /[A-Za-z][A-Za-z' -]*[A-Za-z]/g;
// URLs, paths, e-mails and identifiers are not words ("/bank_crm/api/v1/orders")
const PATHS = /\S*[/@_.:]\S*[A-Za-z]\S*/g;

async function englishSources() {
    const value = await rpc("/web/dataset/call_kw/ir.config_parameter/get_param", {
        model: "ir.config_parameter",
        method: "get_param",
        args: [SOURCES_PARAMETER],
        kwargs: {},
    });
    if (!value) {
        throw new Error(`no English sources: the test sets ${SOURCES_PARAMETER}`);
    }
    return new Set(JSON.parse(value));
}

function isVisible(element) {
    return element.checkVisibility ? element.checkVisibility() : !!element.offsetParent;
}

function clean(text) {
    return (text || "").replace(/\s+/g, " ").trim();
}

/** The texts a reader sees: each text node, each label-like element whole, placeholders and tooltips. */
function visibleTexts(scope) {
    const texts = new Set();
    const roots = document.querySelectorAll(scope);
    for (const root of roots) {
        const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            const element = node.parentElement;
            const text = clean(node.nodeValue);
            if (text && element && !element.closest("script, style") && isVisible(element)) {
                texts.add(text);
            }
        }
        const labelLike = root.querySelectorAll(
            "label, button, th, a.nav-link, .o_form_label, .o_statusbar_status button, .dropdown-item, " +
                ".o_menu_sections .dropdown-toggle, .breadcrumb-item, .o_last_breadcrumb_item, .badge, " +
                ".o_setting_box .o_form_label, .o_horizontal_separator, h1, h2, h3, .o_kanban_card_header_title"
        );
        for (const element of labelLike) {
            const text = clean(element.innerText);
            if (text && isVisible(element)) {
                texts.add(text);
            }
        }
        for (const element of root.querySelectorAll("[placeholder]")) {
            if (isVisible(element) && clean(element.getAttribute("placeholder"))) {
                texts.add(clean(element.getAttribute("placeholder")));
            }
        }
    }
    return texts;
}

const nextFrame = () => new Promise((resolve) => setTimeout(resolve, 300));

/** The steps checking the texts within `scope` (a CSS selector) once `trigger` is shown. */
function russianScreenSteps(trigger, scope) {
    return [
        {
            content: "The screen is shown",
            trigger,
        },
        {
            content: "No text on the screen is still in English",
            trigger,
            async run() {
                const sources = await englishSources();
                const seen = visibleTexts(scope);
                // the other pages of the form's notebooks, one after the other
                const tabs = [...document.querySelectorAll(".o_notebook .nav-link:not(.active)")];
                for (const tab of tabs) {
                    tab.click();
                    await nextFrame();
                    for (const text of visibleTexts(scope)) {
                        seen.add(text);
                    }
                }
                // a text equal to a source, or with a source inside it in Latin letters
                // ("Создано: Outgoing Payment"); codes in capitals ("INV/2026/00001") are not words either
                const english = [...seen]
                    .filter(
                        (text) =>
                            sources.has(text) ||
                            (text.replace(PATHS, " ").match(LATIN_RUN) || []).some(
                                (run) => run !== run.toUpperCase() && sources.has(run.trim())
                            )
                    )
                    .sort();
                if (english.length) {
                    const where = clean(document.querySelector(".o_breadcrumb, .modal-title")?.innerText) || location.href;
                    throw new Error(`English on the screen "${where}": ${english.map((t) => `"${t}"`).join(", ")}`);
                }
            },
        },
    ];
}

registry.category("web_tour.tours").add("odoo_bank_crm_russian_screen", {
    steps: () => russianScreenSteps(SCREEN, ".o_main_navbar, .o_action_manager, .modal"),
});

// Settings: the addon's own block (the other apps' blocks are theirs), with the menu.
const SETTINGS = ".app_settings_block[data-key='odoo_bank_crm']";
registry.category("web_tour.tours").add("odoo_bank_crm_russian_settings", {
    steps: () => russianScreenSteps(SETTINGS, `.o_main_navbar, ${SETTINGS}`),
});
