"""HTML of the hosted payment page, the ACS (3-D Secure) page and result pages.

Plain server-rendered HTML with inline CSS, bilingual labels (Russian / English), no
JavaScript needed.  Every dynamic value goes through ``html.escape``.
"""

from __future__ import annotations

from html import escape

STYLE = """
*{box-sizing:border-box}body{margin:0;font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;
background:#f2f3f5;color:#1f2328}main{max-width:440px;margin:40px auto;padding:0 16px}
.card{background:#fff;border-radius:14px;box-shadow:0 2px 10px rgba(0,0,0,.08);padding:24px;margin-bottom:16px}
.brand{display:flex;justify-content:space-between;align-items:center;font-size:13px;color:#6a737d;margin-bottom:14px}
.brand b{background:#ffdd2d;color:#1f2328;border-radius:6px;padding:2px 8px}
.amount{font-size:32px;font-weight:700;margin:4px 0}.muted{color:#6a737d;font-size:14px}
h1{font-size:20px;margin:0 0 12px}h2{font-size:17px;margin:0 0 12px}
label{display:block;font-size:13px;color:#444;margin:12px 0 4px}
input{width:100%;padding:11px 12px;font-size:16px;border:1px solid #d0d7de;border-radius:8px;background:#fff}
input:focus{outline:2px solid #ffdd2d;border-color:#c9a800}.row{display:flex;gap:12px}.row>div{flex:1}
button{width:100%;margin-top:18px;padding:13px;font-size:16px;font-weight:600;border:0;border-radius:8px;cursor:pointer}
.pay{background:#ffdd2d;color:#1f2328}.pay:hover{background:#fcc521}
.sbp{background:#1d1346;color:#fff}.sbp:hover{background:#2c1f66}
.error{background:#fff1f0;border:1px solid #ffccc7;color:#a8071a;border-radius:8px;padding:10px 12px;margin-top:12px}
.ok{color:#1a7f37}.bad{color:#cf222e}dl{display:grid;grid-template-columns:auto 1fr;gap:4px 12px;margin:12px 0 0;font-size:14px}
dt{color:#6a737d}dd{margin:0;overflow-wrap:anywhere}details{font-size:13px;color:#555}code{font-size:13px}
table{border-collapse:collapse;width:100%;font-size:13px}td{padding:3px 4px;border-top:1px solid #eee}
a.button{display:block;text-align:center;text-decoration:none;margin-top:16px;padding:12px;border-radius:8px;background:#ffdd2d;color:#1f2328;font-weight:600}
"""

TEST_CARDS = [
    ("2200770239097761", "успех / success"),
    ("2201382000000013", "3DS 2.0 frictionless — успех / success"),
    ("2201382000000039", "attempt (A) — успех / success"),
    ("2201382000000047", "3DS challenge, пароль / password 1qwezxc"),
    ("2201382000000021", "ошибка оплаты / payment error → REJECTED"),
    ("2201382000000831", "недостаточно средств / insufficient funds → REJECTED 1051"),
    ("2201382000000005", "3DS отклонён / 3DS rejected → AUTH_FAIL"),
]


def rubles(kopecks: int) -> str:
    """``150050`` → ``1 500,50 ₽`` (non-breaking spaces)."""
    rub, kop = divmod(int(kopecks), 100)
    return f"{rub:,}".replace(",", "\u00a0") + f",{kop:02d}\u00a0₽"


def _layout(title: str, body: str, status: int | None = None) -> str:
    return (
        f'<!DOCTYPE html>\n<html lang="ru"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1">'
        f'<title>{escape(title)}</title><style>{STYLE}</style></head>'
        f'<body><main>{body}<p class="muted" style="text-align:center">'
        f'Тестовая среда банка — деньги не списываются / Bank sandbox — no real money is moved</p>'
        f'</main></body></html>'
    )


def _summary(p: dict) -> str:
    desc = p.get("Description") or ""
    return (
        f'<div class="brand"><span><b>T-Bank</b> sandbox</span><span>Платёж / Payment № {p["PaymentId"]}</span></div>'
        f'<div class="muted">К оплате / Amount due</div>'
        f'<div class="amount" id="amount">{rubles(p["Amount"])}</div>'
        + (f'<div id="description">{escape(desc)}</div>' if desc else "")
        + f'<div class="muted" id="order">Заказ / Order: <span>{escape(str(p["OrderId"]))}</span></div>'
    )


def payment_form(p: dict, error: str | None = None, values: dict | None = None) -> str:
    values = values or {}
    pid = p["PaymentId"]
    err = f'<div class="error" role="alert">{escape(error)}</div>' if error else ""
    cards = "".join(f"<tr><td><code>{n}</code></td><td>{escape(t)}</td></tr>" for n, t in TEST_CARDS)
    body = f"""
<div class="card">{_summary(p)}</div>
<div class="card">
  <h1>Оплата картой / Card payment</h1>
  <form method="post" action="/pay/{pid}" autocomplete="off">
    <input type="hidden" name="action" value="card">
    <label for="card_number">Номер карты / Card number</label>
    <input id="card_number" name="card_number" inputmode="numeric" autocomplete="cc-number"
           placeholder="0000 0000 0000 0000" maxlength="23" value="{escape(values.get('card_number', ''))}" required>
    <div class="row">
      <div><label for="exp_date">Срок / Expiry</label>
        <input id="exp_date" name="exp_date" placeholder="MM/YY" maxlength="7" value="{escape(values.get('exp_date', ''))}"></div>
      <div><label for="cvv">CVV / CVC</label>
        <input id="cvv" name="cvv" inputmode="numeric" placeholder="123" maxlength="4" type="password"></div>
    </div>
    {err}
    <button class="pay" type="submit">Оплатить / Pay {rubles(p["Amount"])}</button>
  </form>
  <form method="post" action="/pay/{pid}">
    <input type="hidden" name="action" value="sbp">
    <button class="sbp" type="submit">Оплатить через СБП / Pay by SBP</button>
  </form>
</div>
<div class="card"><details><summary>Тестовые карты / Test cards (любой срок и CVV / any expiry and CVV)</summary>
<table>{cards}</table></details></div>"""
    return _layout(f"Оплата / Payment {pid}", body)


def acs_page(p: dict, error: str | None = None) -> str:
    pid = p["PaymentId"]
    err = f'<div class="error" role="alert">{escape(error)}</div>' if error else ""
    body = f"""
<div class="card">{_summary(p)}</div>
<div class="card">
  <h1>3-D Secure</h1>
  <p>Подтвердите оплату паролем из SMS / Confirm the payment with the password sent by SMS.</p>
  <p class="muted">Карта / Card: {escape(str(p.get("_pending_card", {}).get("Pan", "")))}</p>
  <form method="post" action="/pay/{pid}/acs" autocomplete="off">
    <label for="password">Пароль / Password</label>
    <input id="password" name="password" type="password" required autofocus>
    {err}
    <button class="pay" type="submit">Подтвердить / Confirm</button>
  </form>
  <p class="muted">Тестовый пароль / Test password: <code>1qwezxc</code></p>
</div>"""
    return _layout("3-D Secure", body)


RESULT_TITLES = {
    "AUTHORIZED": (
        "ok",
        "Оплата прошла успешно / Payment successful",
        "Средства заблокированы на карте / Funds are held on the card",
    ),
    "CONFIRMED": ("ok", "Оплата прошла успешно / Payment successful", "Спасибо! / Thank you!"),
    "REJECTED": ("bad", "Платёж отклонён / Payment declined", ""),
    "AUTH_FAIL": ("bad", "Платёж не прошёл / Payment failed", ""),
    "DEADLINE_EXPIRED": (
        "bad",
        "Срок действия ссылки истёк / The payment link has expired",
        "Запросите новую ссылку у продавца / Ask the merchant for a new link",
    ),
    "CANCELED": ("bad", "Платёж отменён / Payment cancelled", ""),
}


def result_page(p: dict) -> str:
    status = p["Status"]
    css, title, sub = RESULT_TITLES.get(status, ("", f"Статус платежа / Payment status: {status}", ""))
    message = p.get("Message") or ""
    rows = [("Статус / Status", f'<span id="status">{escape(status)}</span>')]
    if p.get("ErrorCode") and p.get("ErrorCode") != "0":
        rows.append(("Код ошибки / Error code", escape(p["ErrorCode"])))
    if message:
        rows.append(("Сообщение / Message", escape(message)))
    if p.get("Pan"):
        rows.append(("Карта / Card" if p.get("method") != "sbp" else "Телефон / Phone", escape(p["Pan"])))
    dl = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows)
    body = f"""
<div class="card">{_summary(p)}</div>
<div class="card"><h1 class="{css}">{title}</h1>{f'<p>{sub}</p>' if sub else ''}<dl>{dl}</dl></div>"""
    return _layout(title, body)


def not_found_page(payment_id: str) -> str:
    body = (
        f'<div class="card"><h1 class="bad">Платёж не найден / Payment not found</h1>'
        f'<p>№ {escape(payment_id)}</p></div>'
    )
    return _layout("Платёж не найден / Payment not found", body)
