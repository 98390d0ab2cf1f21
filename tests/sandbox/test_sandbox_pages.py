"""Hosted payment page, ACS page and redirects, driven like a browser (real form POSTs)."""

import urllib.parse

import pytest

from sandbox_helpers import wait_until

SUCCESS_CARDS = ["2200770239097761", "2201382000000013", "2201382000000039"]
DECLINED = [
    ("2201382000000021", "REJECTED", "1005"),
    ("2201382000000831", "REJECTED", "1051"),
    ("2201382000000005", "AUTH_FAIL", "101"),
    ("4111111111111111", "REJECTED", "1014"),
]


def pay_form(api, payment_id, card, **extra):
    data = {"action": "card", "card_number": card, "exp_date": "12/30", "cvv": "123", **extra}
    return api.http.post(f"{api.base}/pay/{payment_id}", data=data, timeout=5)


def shop_urls(receiver):
    return {"SuccessURL": f"{receiver.url}/shop/success", "FailURL": f"{receiver.url}/shop/fail?order=1"}


def landed(response):
    parts = urllib.parse.urlsplit(response.url)
    return parts.path, dict(urllib.parse.parse_qsl(parts.query))


def test_page_shows_amount_description_order_and_moves_to_form_showed(api):
    payment_id = api.init(150050, "ORDER-7", Description="Консультация <b>юриста</b>")["PaymentId"]
    response = api.http.get(f"{api.base}/pay/{payment_id}", timeout=5)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/html")
    page = response.text
    assert "1\u00a0500,50\u00a0₽" in page
    assert "Консультация &lt;b&gt;юриста&lt;/b&gt;" in page  # escaped
    assert "ORDER-7" in page
    for label in (
        "Оплата картой / Card payment",
        'name="card_number"',
        'name="exp_date"',
        'name="cvv"',
        "Оплатить через СБП / Pay by SBP",
    ):
        assert label in page
    assert api.status(payment_id) == "FORM_SHOWED"


def test_unknown_payment_page_is_404(api):
    assert api.http.get(f"{api.base}/pay/999", timeout=5).status_code == 404
    assert api.http.get(f"{api.base}/pay/abc", timeout=5).status_code == 404


@pytest.mark.parametrize("card", SUCCESS_CARDS)
def test_success_cards_one_stage(api, receiver, card):
    payment_id = api.init(150050, NotificationURL=receiver.notify_url, **shop_urls(receiver))["PaymentId"]
    api.http.get(f"{api.base}/pay/{payment_id}", timeout=5)
    response = pay_form(api, payment_id, card[:4] + " " + card[4:8] + " " + card[8:12] + " " + card[12:])
    assert response.history and response.history[0].status_code == 303
    path, query = landed(response)
    assert path == "/shop/success"
    assert query == {
        "Success": "true",
        "ErrorCode": "0",
        "Message": "None",
        "PaymentId": payment_id,
        "OrderId": "ORDER-1",
        "Amount": "150050",
    }
    assert api.status(payment_id) == "CONFIRMED"
    receiver.wait_for(2)
    assert receiver.statuses(payment_id) == ["AUTHORIZED", "CONFIRMED"]
    assert receiver.notifications[0]["Pan"] == card[:6] + "******" + card[-4:]
    assert receiver.notifications[0]["ExpDate"] == "1230"


def test_success_card_two_stage_stays_authorized(api, receiver):
    payment_id = api.init(NotificationURL=receiver.notify_url, PayType="T")["PaymentId"]
    response = pay_form(api, payment_id, SUCCESS_CARDS[0])
    assert "Оплата прошла успешно" in response.text  # no SuccessURL → result page
    assert api.status(payment_id) == "AUTHORIZED"
    receiver.wait_for(1)
    api.call("Confirm", PaymentId=payment_id)
    receiver.wait_for(2)
    assert receiver.statuses(payment_id) == ["AUTHORIZED", "CONFIRMED"]


@pytest.mark.parametrize("card,status,code", DECLINED)
def test_declined_cards_redirect_to_fail_url(api, receiver, card, status, code):
    payment_id = api.init(NotificationURL=receiver.notify_url, **shop_urls(receiver))["PaymentId"]
    response = pay_form(api, payment_id, card)
    path, query = landed(response)
    assert path == "/shop/fail"
    assert query["order"] == "1" and query["Success"] == "false" and query["ErrorCode"] == code
    assert query["PaymentId"] == payment_id and query["Message"]
    assert api.status(payment_id) == status
    if status == "REJECTED":  # AUTH_FAIL is not among the notified statuses
        notes = receiver.wait_for(1)
        assert notes[0]["Status"] == "REJECTED" and notes[0]["Success"] is False and notes[0]["ErrorCode"] == code
    else:
        assert api.flush()["results"] == []


def test_declined_card_without_fail_url_shows_result_page(api):
    payment_id = api.init()["PaymentId"]
    response = pay_form(api, payment_id, "2201382000000831")
    assert response.status_code == 200 and not response.history
    assert "Платёж отклонён / Payment declined" in response.text and "1051" in response.text


@pytest.mark.parametrize(
    "password,status,target", [("1qwezxc", "CONFIRMED", "/shop/success"), ("wrong", "AUTH_FAIL", "/shop/fail")]
)
def test_challenge_card_goes_through_the_acs_page(api, receiver, password, status, target):
    payment_id = api.init(**shop_urls(receiver))["PaymentId"]
    response = pay_form(api, payment_id, "2201382000000047")
    assert response.url.endswith(f"/pay/{payment_id}/acs")
    assert "3-D Secure" in response.text and 'name="password"' in response.text
    assert api.status(payment_id) == "3DS_CHECKING"
    # reopening the payment link while the ACS step is open leads back to it
    assert api.http.get(f"{api.base}/pay/{payment_id}", timeout=5).url.endswith("/acs")
    response = api.http.post(f"{api.base}/pay/{payment_id}/acs", data={"password": password}, timeout=5)
    assert landed(response)[0] == target
    assert api.status(payment_id) == status


def test_acs_page_without_pending_challenge_redirects_to_payment(api):
    payment_id = api.init()["PaymentId"]
    response = api.http.get(f"{api.base}/pay/{payment_id}/acs", timeout=5)
    assert response.url.endswith(f"/pay/{payment_id}") and 'name="card_number"' in response.text


def test_sbp_button_confirms_with_masked_phone(api, receiver):
    payment_id = api.init(NotificationURL=receiver.notify_url, **shop_urls(receiver))["PaymentId"]
    response = api.http.post(
        f"{api.base}/pay/{payment_id}", data={"action": "sbp", "phone": "+7 916 123-45-42"}, timeout=5
    )
    assert landed(response)[0] == "/shop/success"
    assert api.status(payment_id) == "CONFIRMED"
    note = receiver.wait_for(1)[0]
    assert note["Status"] == "CONFIRMED" and note["Pan"] == "+7 (916) ***-**-42" and "CardId" not in note


def test_empty_card_number_redisplays_the_form(api):
    payment_id = api.init()["PaymentId"]
    response = pay_form(api, payment_id, "")
    assert response.status_code == 200 and "Введите номер карты" in response.text
    assert api.status(payment_id) == "FORM_SHOWED"


def test_paying_twice_shows_the_current_status(api):
    payment_id = api.init()["PaymentId"]
    pay_form(api, payment_id, SUCCESS_CARDS[0])
    response = pay_form(api, payment_id, "2201382000000831")
    assert 'id="status">CONFIRMED' in response.text
    assert api.status(payment_id) == "CONFIRMED"
    assert 'id="status">CONFIRMED' in api.http.get(f"{api.base}/pay/{payment_id}", timeout=5).text


def test_expired_link(api, receiver):
    payment_id = api.init(NotificationURL=receiver.notify_url, RedirectDueDate=_in_minutes(api, 2))["PaymentId"]
    assert api.http.get(f"{api.base}/pay/{payment_id}", timeout=5).status_code == 200
    api.admin("POST", "clock", {"advance_seconds": 180})
    page = api.http.get(f"{api.base}/pay/{payment_id}", timeout=5).text
    assert "Срок действия ссылки истёк / The payment link has expired" in page
    assert api.status(payment_id) == "DEADLINE_EXPIRED"
    note = receiver.wait_for(1)[0]
    assert note["Status"] == "DEADLINE_EXPIRED" and note["Success"] is False
    assert "DEADLINE_EXPIRED" in pay_form(api, payment_id, SUCCESS_CARDS[0]).text  # cannot pay any more
    assert receiver.statuses() == ["DEADLINE_EXPIRED"]


def test_expiry_happens_without_anyone_looking(api, receiver):
    payment_id = api.init(NotificationURL=receiver.notify_url, RedirectDueDate=_in_minutes(api, 2))["PaymentId"]
    api.admin("POST", "clock", {"offset_seconds": 3600})
    assert receiver.wait_for(1)[0]["Status"] == "DEADLINE_EXPIRED"
    wait_until(lambda: api.status(payment_id) == "DEADLINE_EXPIRED")


def _in_minutes(api, minutes):
    from datetime import datetime, timedelta

    now = datetime.fromisoformat(api.admin("GET", "clock").json()["now"])
    return (now + timedelta(minutes=minutes)).astimezone().isoformat(timespec="seconds")


def test_url_placeholders_are_substituted(api, receiver):
    payment_id = api.init(SuccessURL=receiver.url + "/shop/${OrderId}/done")["PaymentId"]
    response = pay_form(api, payment_id, SUCCESS_CARDS[0])
    path, query = landed(response)
    assert path == "/shop/ORDER-1/done" and query["Success"] == "true"
