"""The Apps page's screenshots, re-taken from a running demo in one command.

    make demo                                   # in another terminal (ODOO_PORT etc. as usual)
    .venv/bin/python tools/apps_screenshots.py [--url http://localhost:8069] [--only dashboard deal] [--apps-page]

Logs in as the demo's director (admin), opens each screen the Apps page shows in English and
in Russian (the user's language is put back afterwards), prints the «Счёт на оплату» of an
unpaid demo invoice to PNG (pdftoppm), and writes small PNGs (at most --max-kb each: 256
colours, then smaller if needed) into odoo_bank_crm/static/description/screenshots/, the
files static/description/index.html and the manifest's `images` name. `--apps-page` also
shoots the module's own page in Apps (its description tab, the whole height) into
.state/screens/, to look at how Odoo renders index.html.
"""

import argparse
import io
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageChops

sys.path.insert(0, str(Path(__file__).resolve().parent))
from screenshot import Browser, login

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "odoo_bank_crm" / "static" / "description" / "screenshots"
LANGS = ("en_US", "ru_RU")
SUFFIX = {"en_US": "en", "ru_RU": "ru"}
ADDON = "odoo_bank_crm"


class Demo:
    """JSON-RPC against the demo, to find the records the screens show."""

    def __init__(self, url, session):
        self.url, self.session = url, session

    def call(self, model, method, *args, **kwargs):
        answer = self.session.post(
            f"{self.url}/web/dataset/call_kw",
            json={"jsonrpc": "2.0", "params": {"model": model, "method": method, "args": list(args), "kwargs": kwargs}},
            timeout=600,  # loading a language's terms takes minutes
        ).json()
        if answer.get("error"):
            raise RuntimeError(f"{model}.{method}: {answer['error']['data'].get('message')}")
        return answer["result"]

    def ref(self, xml_id):
        module, name = xml_id.split(".")
        found = self.call("ir.model.data", "search_read", [("module", "=", module), ("name", "=", name)], ["res_id"])
        if not found:
            raise RuntimeError(f"{xml_id} not found: is this the demo database (make demo)?")
        return found[0]["res_id"]

    def first(self, model, domain):
        ids = self.call(model, "search", domain, limit=1, order="id")
        if not ids:
            raise RuntimeError(f"no {model} matching {domain} in the demo database")
        return ids[0]


def action_url(xml_id, record_id=None):
    return f"/odoo/action-{ADDON}.{xml_id}" + (f"/{record_id}" if record_id else "")


def shots(demo):
    """(name, path to open, JavaScript action to run there or None, the part kept or None) per
    screen, in page order. The part kept leaves out what would only be empty space or the
    chatter's creation message."""
    deal = demo.ref(f"{ADDON}.crm_lead_romashka_equipment")
    manager = demo.ref(f"{ADDON}.user_bank_crm_manager")
    right = demo.first("bank.crm.money.right", [("user_id", "=", manager)])
    waiting = demo.first("bank.crm.payment.order", [("state", "=", "to_approve")])
    statement = (
        "odoo.__WOWL_DEBUG__.root.env.services.action.doAction("
        f"'{ADDON}.bank_crm_statement_wizard_action').then(() => true)"
    )
    return [
        ("dashboard", "/odoo/bank-accounts", None, None),
        ("transactions", "/odoo/bank-transactions", None, None),
        ("deal", f"/odoo/crm/{deal}", None, None),
        ("approval", action_url("bank_crm_payment_order_action_to_approve", waiting), None, None),
        ("rights", action_url("bank_crm_money_right_action", right), None, (0, 0, 1440, 748)),
        ("statement", "/odoo/bank-transactions", statement, None),
        ("analytics", action_url("account_bank_statement_line_action_income_expense") + "?view_type=graph", None, None),
        ("profitability", action_url("bank_crm_deal_profitability_action"), None, (0, 0, 1000, 380)),
    ]


def load_russian(demo):
    """Odoo's own Russian for every installed module, as Settings → Languages → Add loads it
    for a Russian customer (the demo database only activates the language)."""
    lang = demo.call("res.lang", "search", [("code", "=", "ru_RU")], context={"active_test": False})
    wizard = demo.call("base.language.install", "create", {"lang_ids": [(6, 0, lang)], "overwrite": False})
    demo.call("base.language.install", "lang_install", [wizard])


def save_small(png_bytes, target, max_kb, width=None, crop=None):
    """PNG at most max_kb: 256 colours where that saves a quarter or more (screens of flat
    colours lose nothing seen), else as taken; scaled down while still too large."""
    image = Image.open(io.BytesIO(png_bytes)).convert("RGB")
    if crop:
        image = image.crop(crop)
    if width and image.width > width:
        image = image.resize((width, round(image.height * width / image.width)), Image.LANCZOS)
    while True:
        encoded = []
        for candidate in (image, image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)):
            buffer = io.BytesIO()
            candidate.save(buffer, format="PNG", optimize=True)
            encoded.append(buffer.getvalue())
        full, quantized = encoded
        best = quantized if len(quantized) <= 0.75 * len(full) or len(full) > max_kb * 1024 else full
        if len(best) <= max_kb * 1024:
            target.write_bytes(best)
            return image.size, len(best)
        image = image.resize((round(image.width * 0.85), round(image.height * 0.85)), Image.LANCZOS)


def invoice_pdf_png(demo, out, max_kb):
    """The «Счёт на оплату» of the unpaid demo invoice (SBP QR and payment link), page 1 as PNG."""
    lead = demo.ref(f"{ADDON}.crm_lead_vector_support")
    invoice = demo.first("account.move", [("bank_crm_lead_id", "=", lead), ("move_type", "=", "out_invoice")])
    if not demo.call("account.move", "read", [invoice], ["bank_crm_sbp_qr_payload"])[0]["bank_crm_sbp_qr_payload"]:
        # the deal's invoice button "Resend" (send the payment link): the bank's link and its SBP QR code, printed on the invoice
        demo.call("account.move", "action_bank_crm_send_payment_link", [invoice])
    answer = demo.session.get(f"{demo.url}/report/pdf/account.report_invoice/{invoice}", timeout=180)
    if answer.headers.get("Content-Type", "").split(";")[0] != "application/pdf":
        raise RuntimeError(f"the invoice {invoice} did not print: {answer.status_code} {answer.text[:200]}")
    with tempfile.TemporaryDirectory() as folder:
        pdf = Path(folder) / "invoice.pdf"
        pdf.write_bytes(answer.content)
        subprocess.run(["pdftoppm", "-png", "-r", "150", "-f", "1", "-l", "1", str(pdf), f"{folder}/page"], check=True)
        page = Image.open(next(Path(folder).glob("page*.png"))).convert("RGB")
    # the printed part of the page, with a margin: no half-page of white under the signatures
    background = Image.new("RGB", page.size, (255, 255, 255))

    box = ImageChops.difference(page, background).getbbox() or (0, 0, page.width, page.height)
    margin = 30
    page = page.crop(
        (
            max(box[0] - margin, 0),
            max(box[1] - margin, 0),
            min(box[2] + margin, page.width),
            min(box[3] + margin, page.height),
        )
    )
    buffer = io.BytesIO()
    page.save(buffer, format="PNG")
    target = out / "invoice_pdf_ru.png"
    size, length = save_small(buffer.getvalue(), target, max_kb)
    return target, size, length


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://localhost:8069")
    parser.add_argument("--db", default="bank_crm_demo")
    parser.add_argument("--login", default="admin")
    parser.add_argument("--password", default="admin")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--width", type=int, default=1440)
    parser.add_argument("--height", type=int, default=900)
    parser.add_argument("--max-kb", type=int, default=300, help="largest file size of a screenshot (300)")
    parser.add_argument("--only", nargs="*", help="only these shots (dashboard, deal, invoice_pdf, ...)")
    parser.add_argument("--apps-page", action="store_true", help="also shoot the module's page in Apps")
    parser.add_argument("--apps-page-only", action="store_true", help="shoot only the module's page in Apps")
    parser.add_argument(
        "--no-russian", action="store_true", help="do not load Odoo's own Russian for every installed module first"
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    session = login(args.url, args.db, args.login, args.password)
    demo = Demo(args.url, session)
    uid = demo.call("res.users", "search", [("login", "=", args.login)])[0]
    original_lang = demo.call("res.users", "read", [uid], ["lang"])[0]["lang"]
    wanted = set(args.only or [])
    every = shots(demo)
    unknown = wanted - {shot[0] for shot in every} - {"invoice_pdf"}
    if unknown:
        parser.error(f"no such shot: {', '.join(sorted(unknown))}")
    plan = [] if args.apps_page_only else [shot for shot in every if not wanted or shot[0] in wanted]
    if not args.no_russian:
        print("loading Odoo's Russian for every installed module (Settings > Languages)...", flush=True)
        load_russian(demo)
    browser = Browser(args.width, args.height)
    try:
        browser.call("Network.setCookie", name="session_id", value=session.cookies.get("session_id"), url=args.url)
        for lang in LANGS:
            demo.call("res.users", "write", [uid], {"lang": lang})
            for name, path, action, crop in plan:
                raw = Path(tempfile.mkstemp(suffix=".png")[1])
                browser.call("Page.navigate", url=args.url + path)
                browser.wait_ready()
                if action:
                    browser.evaluate(action)
                    browser.wait_ready()
                browser.capture(raw)
                target = args.out / f"{name}_{SUFFIX[lang]}.png"
                size, length = save_small(raw.read_bytes(), target, args.max_kb, crop=crop)
                raw.unlink()
                print(
                    f"{target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}  {size[0]}x{size[1]}  {length // 1024} KB"
                )
        if not args.apps_page_only and (not wanted or "invoice_pdf" in wanted):
            target, size, length = invoice_pdf_png(demo, args.out, args.max_kb)
            print(
                f"{target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}  {size[0]}x{size[1]}  {length // 1024} KB"
            )
        if args.apps_page or args.apps_page_only:
            # Apps > Update Apps List: the module's summary and images as the manifest has them now
            demo.call("ir.module.module", "update_list")
            module = demo.first("ir.module.module", [("name", "=", ADDON)])
            screens = ROOT / ".state" / "screens"
            screens.mkdir(parents=True, exist_ok=True)
            for lang in LANGS:
                demo.call("res.users", "write", [uid], {"lang": lang})
                target = screens / f"apps_page_{SUFFIX[lang]}.png"
                browser.call("Page.navigate", url=f"{args.url}/odoo/apps/{module}")
                browser.wait_ready(settle=3)
                # the form scrolls inside .o_content: a window as tall as the page shows all of it
                height = browser.evaluate("document.querySelector('.o_content').scrollHeight") or args.height
                browser.resize(args.width, height + 150)
                browser.wait_ready(settle=3)
                browser.capture(target)
                browser.resize(args.width, args.height)
                print(target)
    finally:
        demo.call("res.users", "write", [uid], {"lang": original_lang})
        browser.close()


if __name__ == "__main__":
    main()
