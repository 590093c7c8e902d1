#!/usr/bin/env python3
"""`make browser-test`: the web UI in a real browser, Debian's Chromium driven by Playwright.

One stack for the whole suite (a private redis-server, the real betmaker-api and betmaker-worker,
`betmaker-api seed`), started as `make contract` starts it (the `Stack` of Tests/contract/run.py).
Each scenario makes its own users and events, so the scenarios cannot disturb each other:

1. a new player registers, activates, logs in, is credited by the signed payment webhook, places a
   bet from the slip (the potential payout shown first) and sees it `pending`; an operator in a second
   browser context reports the result; the player's page shows `won` and the new balance without a
   reload (Server-Sent Events);
2. two operators report different results on one event at the same moment: one page shows it
   reported, the other the conflict message;
3. a player disabled by an operator on the users page: their next action is refused and the page
   says why;
4. a cross-site form post with the cookie (a page on another origin that submits itself to the API)
   changes nothing;
5. the workflow: a trader takes the event assigned to them and reports it (and is refused the
   operator's page);
6. the catalogue on the operator's events page: an event created (a refused field shown next to it
   first), edited, closed for bets, assigned to a trader (a player refused first), voided with a
   reason, and then refused a second assignment with its current state; another deleted;
7. the operator's dead letters (one re-driven, one refused as never settling anything, the refusal next
   to its button) and contacts (one erased);
8. the trade screen with the simulated price feed: the price moves live, a refused order's error sits
   next to its field, a trade is placed, opens at the next tick, counts down, and its result (status, end price, profit,
   payout) and the new balance arrive without a reload.

9. (tour.py) the chart: ticks arrive and the chart's path gains points without a reload; a trade placed is
   drawn at its start price and counted down in the chart's header;
10. (tour.py) the tour: every page, logged in as a player, a trader and an administrator (and anonymous), is
   checked by axe-core (`axe-playwright-python`): no serious or critical violation; each is
   screenshotted.

Every scenario runs at 1280 px and at 390 px wide (a phone), and every page a scenario looks at must
fit its width: `document.documentElement.scrollWidth <= innerWidth` (nothing scrolls sideways).
The axe results per page and role (violations counted by impact) are printed and written to
`axe-results.json` beside the screenshots.

Screenshots go to `--screenshots` (default .build-tools/browser-screenshots); `--docs DIR` also copies
the tour's screenshots there as `ui-<page>-<width>.png` (how docs/ is refreshed). Chromium runs
headless from /usr/bin/chromium with `--no-sandbox` (the sandbox refuses to run as root);
`playwright install` is never run. Exits 0 only when every scenario passed at both widths.
"""

from __future__ import annotations

import argparse
import hashlib
import http.server
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.error
import urllib.request
from decimal import Decimal
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

ROOT = Path(__file__).resolve().parents[2]

# The contract tests' stack, shared rather than copied.
_spec = importlib.util.spec_from_file_location("contract_run", ROOT / "Tests" / "contract" / "run.py")
contract = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(contract)

from common import ADMIN, PASSWORD, TIMEOUT_MS, VIEWPORTS, ZONES, log  # noqa: E402 - beside this script
from tour import Tour, report_axe  # noqa: E402


class API:
    """Direct calls to the API, for what a scenario needs that is not the UI under test."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def call(self, method: str, path: str, body: object | None = None, token: str | None = None) -> tuple[int, object]:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(
            self.base_url + path, method=method, headers=headers, data=None if body is None else json.dumps(body).encode()
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                text = response.read()
                return response.status, json.loads(text) if text else None
        except urllib.error.HTTPError as error:
            text = error.read()
            return error.code, json.loads(text) if text else None

    def token(self, login: str, password: str) -> str:
        status, body = self.call("POST", "/auth", {"login": login, "password": password})
        assert status == 200, f"log in {login}: {status} {body}"
        return body["access_token"]

    def event(self, admin: str, event_id: str, title: str = "Derby", odds: str = "1.85") -> None:
        status, body = self.call(
            "POST", "/admin/events",
            {"id": event_id, "title": title, "home_team": "Reds", "away_team": "Blues", "starts_at": "2030-01-01T18:00:00Z", "odds": odds},
            admin,
        )
        assert status == 201, f"create {event_id}: {status} {body}"

    def deposit(self, user_id: int, account_id: int, amount: str, transaction_id: str) -> None:
        """What the payment provider sends: the values as sent, then the shared secret, hashed."""
        secret = contract.SETTINGS["PAYMENT_WEBHOOK_SECRET"]
        signature = hashlib.sha256(f"{account_id}{amount}{transaction_id}{user_id}{secret}".encode()).hexdigest()
        status, body = self.call(
            "POST", "/payment/webhook",
            {"transaction_id": transaction_id, "user_id": user_id, "account_id": account_id, "amount": amount, "signature": signature},
        )
        assert status == 200, f"deposit: {status} {body}"

    def player(self, login: str) -> tuple[int, int, str]:
        """A registered, activated player (through the API): user id, account id, bearer token."""
        status, body = self.call("POST", "/users", {"login": login, "password": PASSWORD})
        assert status == 201, f"register {login}: {status} {body}"
        token_path = "/users/activate/" + body["activation_url"].rsplit("/", 1)[1]
        assert self.call("GET", token_path)[0] == 200
        token = self.token(login, PASSWORD)
        _, me = self.call("GET", "/users/me", token=token)
        return me["user"]["id"], me["accounts"][0]["id"], token


class Suite(Tour):
    def __init__(self, browser: Browser, base_url: str, screenshots: Path, redis_url: str, width: int, axe: dict) -> None:
        self.browser = browser
        self.base_url = base_url
        self.redis_url = redis_url
        self.api = API(base_url)
        self.admin = self.api.token(*ADMIN)
        self.screenshots = screenshots
        self.width = width
        # page -> role -> impact -> count, filled by the tour (both widths together).
        self.axe = axe
        self.run_id = str(int(time.time() * 1000) % 100_000_000)

    def name(self, stem: str) -> str:
        return f"{stem}-{self.run_id}-{self.width}"

    def fits(self, page: Page) -> None:
        """Nothing on the page scrolls sideways at this width."""
        page.wait_for_load_state()
        scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert scroll <= inner, f"{page.url} scrolls sideways at {self.width} px: scrollWidth {scroll} > innerWidth {inner}"

    def shot(self, page: Page, name: str) -> None:
        self.fits(page)
        page.screenshot(path=str(self.screenshots / f"{name}-{self.width}.png"), full_page=True)

    def context(self) -> BrowserContext:
        zone, language = ZONES[self.width]
        context = self.browser.new_context(
            base_url=self.base_url, viewport=VIEWPORTS[self.width], timezone_id=zone, locale=language)
        context.set_default_timeout(TIMEOUT_MS)
        return context

    def log_in(self, context: BrowserContext, login: str, password: str) -> Page:
        page = context.new_page()
        page.goto("/ui/login")
        page.fill("input[name=login]", login)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_url("**/ui/**events")
        self.fits(page)
        return page

    def navigate(self, page: Page, href: str) -> None:
        """Follows a link of the header's navigation, opening the menu first where it is folded (a phone)."""
        menu = page.locator("button[data-menu]")
        if menu.is_visible():
            menu.click()
            expect(menu).to_have_attribute("aria-expanded", "true")
        page.click(f"nav a[href='{href}']")
        page.wait_for_url(f"**{href}")
        self.fits(page)

    def manage(self, row) -> None:
        """Opens an event's Manage dialog (modal: the row keeps its height)."""
        row.locator("button[data-manage]").click()
        expect(row.locator("dialog[data-manage-dialog]")).to_be_visible()

    # MARK: Scenarios

    def new_player_bets_and_sees_the_result_live(self) -> None:
        event = self.name("derby")
        self.api.event(self.admin, event, title="Derby of the day")
        player = self.context()
        page = player.new_page()
        login = self.name("pat")
        page.goto("/ui/register")
        page.fill("input[name=login]", login)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.click("[data-activation-link]")
        expect(page.locator("[data-activate]")).to_have_text("Your account is active. Log in.")
        page.close()
        page = self.log_in(player, login, PASSWORD)
        # Loopback is a secure context: Chromium keeps the Secure cookie on http://127.0.0.1.
        cookie = next(c for c in player.cookies() if c["name"] == "betmaker_token")
        assert cookie["secure"] and cookie["httpOnly"] and cookie["sameSite"] == "Strict", cookie

        token = self.api.token(login, PASSWORD)
        _, me = self.api.call("GET", "/users/me", token=token)
        self.api.deposit(me["user"]["id"], me["accounts"][0]["id"], "100.00", self.name("pay"))
        page.reload()
        expect(page.locator("[data-balance]")).to_have_text("100.00")

        slip = page.locator(f'form[data-event-id="{event}"]')
        slip.locator("input[name=amount]").fill("10")
        expect(slip.locator("[data-payout]")).to_have_text("18.50")
        # An error from the API's problem+json goes next to the field: more than the balance.
        slip.locator("input[name=amount]").fill("500")
        slip.locator("button[type=submit]").click()
        expect(slip.locator('[data-error-for="amount"]')).to_contain_text("more than the account's balance")
        self.shot(page, "slip-error")
        slip.locator("input[name=amount]").fill("10")
        slip.locator("button[type=submit]").click()
        expect(slip.locator("[data-placed]")).to_contain_text("pending")
        expect(page.locator("[data-balance]")).to_have_text("90.00")
        self.shot(page, "events-slip")

        page.goto("/ui/bets")
        row = page.locator("tr[data-bet-id]").first
        expect(row.locator("[data-status]")).to_have_text("pending")
        expect(page.locator("body[data-live-state=open]")).to_have_count(1)

        operator = self.context()
        desk = self.log_in(operator, *ADMIN)
        desk.goto("/ui/operator/events")
        operator_row = desk.locator(f'tr[data-event-id="{event}"]')
        operator_row.locator('button[data-report="WIN"]').click()
        expect(operator_row.locator("[data-reported]")).to_have_text("Reported WIN")
        # Nothing is left to report: the state says so at once.
        expect(operator_row.locator("[data-state]")).to_have_text("resulted")
        expect(operator_row.locator("button[data-report]")).to_have_count(0)

        # No reload: the page's stream flips the bet and the balance follows (90.00 + 18.50).
        expect(row.locator("[data-status]")).to_have_text("won")
        expect(page.locator("[data-balance]")).to_have_text("108.50")
        self.shot(page, "my-bets-live")
        expect(operator_row.locator("[data-progress]")).to_contain_text("1 of 1 settled, paid 18.50")
        self.shot(desk, "operator-events")
        player.close()
        operator.close()

    def two_operators_report_at_once(self) -> None:
        event = self.name("final")
        self.api.event(self.admin, event, title="Cup final")
        pages = []
        contexts = [self.context(), self.context()]
        for context in contexts:
            page = self.log_in(context, *ADMIN)
            page.goto("/ui/operator/events")
            pages.append(page)
        rows = [page.locator(f'tr[data-event-id="{event}"]') for page in pages]
        # Both clicks before either answer is awaited: the two requests race in the API.
        rows[0].locator('button[data-report="WIN"]').click()
        rows[1].locator('button[data-report="LOSE"]').click()
        # The report cell's own message (the row's catalogue forms have theirs).
        cells = [row.locator("[data-report-status]") for row in rows]
        for cell in cells:
            expect(cell.locator("[data-reported]:not(:empty), [data-error-for=form]:not(:empty)")).to_have_count(1)
        texts = [cell.locator("[data-reported]").text_content() + "|" + cell.locator("[data-error-for=form]").text_content() for cell in cells]
        reported = [t for t in texts if t.startswith("Reported")]
        conflicts = [t for t in texts if "Conflict" in t]
        assert len(reported) == 1 and len(conflicts) == 1, texts
        # Both pages show the one result that stands.
        for row in rows:
            expect(row.locator("[data-state]")).to_have_text("resulted")
        winner = "WIN" if texts[0].startswith("Reported WIN") or texts[1].startswith("Reported WIN") else "LOSE"
        for row in rows:
            expect(row.locator("[data-result]")).to_have_text(winner)
        self.shot(pages[0] if "Conflict" in texts[0] else pages[1], "operator-conflict")
        for context in contexts:
            context.close()

    def disabled_player_is_told_why(self) -> None:
        event = self.name("friendly")
        self.api.event(self.admin, event)
        login = self.name("dee")
        user_id, account_id, _ = self.api.player(login)
        self.api.deposit(user_id, account_id, "20.00", self.name("pay-dee"))
        context = self.context()
        page = self.log_in(context, login, PASSWORD)
        # An operator disables the player on the users page.
        operator = self.context()
        desk = self.log_in(operator, *ADMIN)
        desk.goto("/ui/operator/users")
        desk.locator(f'tr[data-user-id="{user_id}"] button[data-user-change="disable"]').click()
        expect(desk.locator(f'tr[data-user-id="{user_id}"] [data-user-status]')).to_have_text("disabled")
        self.shot(desk, "operator-users")
        operator.close()
        slip = page.locator(f'form[data-event-id="{event}"]')
        slip.locator("input[name=amount]").fill("5")
        slip.locator("button[type=submit]").click()
        expect(slip.locator('[data-error-for="form"]')).to_have_text("An administrator has disabled this account.")
        self.shot(page, "disabled-player")
        page.goto("/ui/bets")
        expect(page.locator("[data-problem=account-disabled]")).to_have_text("An administrator has disabled this account.")
        context.close()

    def trader_takes_an_assigned_event_and_reports_it(self) -> None:
        event = self.name("assigned")
        self.api.event(self.admin, event, title="Assigned match")
        login = self.name("tess")
        user_id, _, _ = self.api.player(login)
        status, body = self.api.call("PATCH", f"/admin/users/{user_id}", {"role": "trader"}, self.admin)
        assert status == 200, (status, body)
        status, body = self.api.call("POST", f"/events/{event}/assign", {"trader_id": user_id}, self.admin)
        assert status == 200, (status, body)
        context = self.context()
        page = self.log_in(context, login, PASSWORD)
        assert page.url.endswith("/ui/trader/events"), page.url
        row = page.locator(f'tr[data-event-id="{event}"]')
        expect(row.locator("[data-state]")).to_have_text("assigned")
        row.locator("button[data-take]").click()
        expect(row.locator("[data-state]")).to_have_text("in_progress")
        row.locator('button[data-report="WIN"]').click()
        expect(row.locator("[data-reported]")).to_have_text("Reported WIN")
        expect(row.locator("[data-state]")).to_have_text("resulted")
        expect(row.locator("button[data-take]")).to_have_count(0)
        self.shot(page, "trader-events")
        _, reported = self.api.call("GET", f"/events/{event}")
        assert reported["status"] == "WIN" and reported["trader_id"] == user_id, reported
        # Not an operator: the operator's page is refused, whatever the address bar says.
        page.goto("/ui/operator/events")
        expect(page.locator("[data-problem=forbidden]")).to_contain_text("administrator")
        context.close()

    def operator_manages_the_catalogue(self) -> None:
        event = self.name("cat")
        trader_login = self.name("trent")
        trader_id, _, _ = self.api.player(trader_login)
        status, body = self.api.call("PATCH", f"/admin/users/{trader_id}", {"role": "trader"}, self.admin)
        assert status == 200, (status, body)
        player_id, _, _ = self.api.player(self.name("pia"))
        context = self.context()
        page = self.log_in(context, *ADMIN)
        page.goto("/ui/operator/events")
        page.click("details.create summary")
        form = page.locator('form[data-form="event-create"]')
        for name, value in [("id", event), ("title", "Catalogue cup"), ("home_team", "Owls"), ("away_team", "Larks"),
                            ("starts_at", "2030-06-01T18:00"), ("odds", "0.5")]:
            form.locator(f"input[name={name}]").fill(value)
        form.locator("button[type=submit]").click()
        expect(form.locator('[data-error-for="odds"]')).to_contain_text("odds")
        form.locator("input[name=odds]").fill("2.10")
        form.locator("button[type=submit]").click()
        row = page.locator(f'tr[data-event-id="{event}"]')
        expect(row.locator("[data-state]")).to_have_text("open · taking bets")

        # The event's time is the one typed, in the browser's zone; the page shows it so, the UTC in the title.
        stored_start = self.api.call("GET", f"/events/{event}")[1]["catalogue"]["starts_at"]
        typed = page.evaluate("new Date('2030-06-01T18:00').toISOString()")
        assert stored_start == typed, (stored_start, typed)
        expect(row.locator("time")).to_have_attribute("title", re.compile(r"^2030-06-0[12] \d\d:\d\d:00 UTC$"))

        height = row.bounding_box()["height"]
        self.manage(row)
        # A modal dialog: the row keeps its height.
        assert row.bounding_box()["height"] == height, (height, row.bounding_box())
        edit = row.locator('form[data-form="event-edit"]')
        expect(edit.locator("input[name=starts_at]")).to_have_value("2030-06-01T18:00")
        edit.locator("input[name=title]").fill("Catalogue cup, final")
        edit.locator("button[type=submit]").click()
        expect(row.locator("[data-title]")).to_have_text("Catalogue cup, final")
        assert self.api.call("GET", f"/events/{event}")[1]["catalogue"]["starts_at"] == typed, "saving kept the time"
        self.manage(row)
        row.locator('button[data-event-change="close"]').click()
        expect(row.locator("[data-state]")).to_have_text("open")

        # The trader is picked by login from the traders index; a player is not offered.
        self.manage(row)
        assign = row.locator('form[data-form="event-assign"]')
        trader = assign.locator("select[name=trader_id]")
        expect(trader.locator(f'option[value="{player_id}"]')).to_have_count(0)
        trader.select_option(label=trader_login)
        # The role is taken meanwhile (another operator): the refusal is shown next to the form.
        status, body = self.api.call("PATCH", f"/admin/users/{trader_id}", {"role": "player"}, self.admin)
        assert status == 200, (status, body)
        assign.locator("button[type=submit]").click()
        expect(assign.locator('[data-error-for="form"]')).to_contain_text("not an active user with the trader role")
        self.shot(page, "operator-assign-refused")
        status, body = self.api.call("PATCH", f"/admin/users/{trader_id}", {"role": "trader"}, self.admin)
        assert status == 200, (status, body)
        page.reload()
        self.manage(row)
        trader.select_option(label=trader_login)
        assign.locator("button[type=submit]").click()
        expect(row.locator("[data-state]")).to_have_text("assigned")
        expect(row.locator("[data-trader]")).to_have_text(trader_login)

        self.manage(row)
        void = row.locator('form[data-form="event-void"]')
        void.locator("input[name=reason]").fill("the venue flooded")
        void.locator("button[type=submit]").click()
        expect(row.locator("[data-state]")).to_have_text("void")
        # Now void: assigning again is refused with the event's current state, next to the action.
        self.manage(row)
        trader.select_option(label=trader_login)
        assign.locator("button[type=submit]").click()
        expect(assign.locator('[data-error-for="form"]')).to_contain_text("is void")
        self.shot(page, "operator-catalogue")
        row.locator("button[data-close]").click()
        expect(row.locator("dialog[data-manage-dialog]")).to_be_hidden()
        _, stored = self.api.call("GET", f"/events/{event}")
        assert stored["state"] == "void" and stored["void_reason"] == "the venue flooded", stored
        assert stored["catalogue"]["title"] == "Catalogue cup, final" and stored["catalogue"]["open"] is False, stored

        spare = self.name("spare")
        self.api.event(self.admin, spare, title="Spare")
        page.reload()
        spare_row = page.locator(f'tr[data-event-id="{spare}"]')
        self.manage(spare_row)
        spare_row.locator('button[data-event-change="delete"]').click()
        expect(spare_row).to_have_count(0)
        assert self.api.call("GET", f"/events/{spare}")[1]["catalogue"] is None
        context.close()

    def dead_letter(self, reason: str, *fields: str) -> None:
        """A dead letter as the worker writes one (`dead_letter`): the stack has one shard and the key prefix `bm:`."""
        command = ["redis-cli", "-u", self.redis_url, "XADD", "bm:{sh:0}:events:dead", "*", "entry_id", "1-0", "reason", reason, "deliveries", "11"]
        subprocess.run([*command, *fields], check=True, capture_output=True)

    def operator_re_drives_dead_letters_and_erases_a_contact(self) -> None:
        event = self.name("lost-entry")
        self.api.event(self.admin, event, title="Lost entry")
        status, body = self.api.call("PUT", f"/events/{event}", {"status": "WIN"}, self.admin)
        assert status in (200, 202), (status, body)
        self.dead_letter("delivered 11 times without being settled", "event_id", event, "result", "WIN", "reported_at", "1")
        self.dead_letter("malformed entry", "event_id", self.name("nothing"))
        _, _, token = self.api.player(self.name("cal"))
        email = self.name("cal") + "@example.com"
        status, body = self.api.call("POST", "/plays", {"email": email}, token)
        assert status == 200, (status, body)

        context = self.context()
        page = self.log_in(context, *ADMIN)
        self.navigate(page, "/ui/operator/dead-letters")
        rows = page.locator("tr[data-dead-letter-id]")
        malformed, parked = rows.nth(0), rows.nth(1)
        expect(malformed).to_contain_text("malformed entry")
        malformed.locator("button[data-retry]").click()
        expect(malformed.locator('[data-error-for="form"]')).to_contain_text("can never settle anything")
        parked.locator("button[data-retry]").click()
        expect(parked.locator("[data-retried]")).to_contain_text(f"of event {event}")
        expect(parked.locator("button[data-retry]")).to_have_count(0)
        self.shot(page, "operator-dead-letters")

        self.navigate(page, "/ui/operator/contacts")
        row = page.locator(f'tr[data-contact="{email}"]')
        expect(row).to_contain_text("1")
        row.locator("button[data-erase]").click()
        expect(row).to_have_count(0)
        _, contacts = self.api.call("GET", "/admin/contacts?limit=1000", token=self.admin)
        assert all(contact["email"] != email for contact in contacts), contacts
        context.close()

    def trade_screen_places_counts_down_and_shows_the_result(self) -> None:
        login = self.name("tia")
        user_id, account_id, _ = self.api.player(login)
        self.api.deposit(user_id, account_id, "100.00", self.name("pay-tia"))
        context = self.context()
        page = self.log_in(context, login, PASSWORD)
        self.navigate(page, "/ui/trades")
        expect(page.locator("body[data-live-state=open]")).to_have_count(1)
        # The simulated feed ticks every second: the price changes on the page by itself, shown with the
        # precision that fits the symbol (cents for BTC), the exact price in its title.
        quote = page.locator('[data-quote="BTC"]')
        expect(quote).to_have_attribute("data-price", re.compile(r"^\d+\.\d{8}$"))
        first = quote.get_attribute("data-price")
        expect(quote).not_to_have_attribute("data-price", first)
        expect(quote).to_have_text(re.compile(r"^[\d,]+\.\d{2}$"))
        expect(quote).to_have_attribute("title", re.compile(r"^\d+\.\d{8} USD$"))

        form = page.locator('form[data-form="trade"]')
        form.locator("input[name=amount]").fill("10")
        form.locator("input[name=leverage]").fill("500")
        form.locator("button[type=submit]").click()
        expect(form.locator('[data-error-for="leverage"]')).to_contain_text("must be a whole number from 1 to 100")
        form.locator("input[name=leverage]").fill("2")
        # The shortest duration the API allows (10 s): the form starts with it.
        expect(form.locator("input[name=duration]")).to_have_value("10")
        form.locator("button[type=submit]").click()
        # Accepted pending: it opens at the next tick, whose price nobody knows yet; the stream says when.
        expect(form.locator("[data-placed]")).to_contain_text("it opens at the next price of BTC")
        expect(form.locator('[data-error-for="leverage"]')).to_have_text("")
        expect(page.locator("[data-balance]")).to_have_text("90.00")
        row = page.locator("tr[data-trade-id]").first
        expect(row.locator("[data-status]")).to_have_text("open")
        expect(row.locator("[data-start]")).to_have_attribute("data-price", re.compile(r"^\d+\.\d{8}$"))
        expect(row.locator("[data-countdown]")).to_have_text(re.compile(r"^0:\d{2}$"))
        self.shot(page, "trades-countdown")

        # No reload: the worker closes it at the first tick after expiry, the stream says so.
        expect(row.locator("[data-status]")).to_have_text(re.compile("^(won|lost|even)$"))
        expect(row.locator("[data-end]")).to_have_attribute("data-price", re.compile(r"^\d+\.\d{8}$"))
        expect(row.locator("[data-end]")).to_have_text(re.compile(r"^[\d,]+\.\d{2}$"))
        payout = row.locator("[data-trade-payout]").text_content()
        assert re.fullmatch(r"\d+\.\d{2}", payout), payout
        trade_id = row.get_attribute("data-trade-id")
        _, trade = self.api.call("GET", f"/trades/{trade_id}", token=self.api.token(login, PASSWORD))
        assert trade["status"] == row.locator("[data-status]").text_content() and trade["payout"] == payout, trade
        assert row.locator("[data-start]").get_attribute("data-price") == trade["start"]["price"], trade
        assert row.locator("[data-end]").get_attribute("data-price") == trade["end"]["price"], trade
        expect(page.locator("[data-balance]")).to_have_text(str(Decimal("90.00") + Decimal(payout)))
        self.shot(page, "trades-result")
        context.close()

    def cross_site_form_changes_nothing(self) -> None:
        event = self.name("derby-csrf")
        self.api.event(self.admin, event)
        login = self.name("vic")
        user_id, account_id, token = self.api.player(login)
        self.api.deposit(user_id, account_id, "50.00", self.name("pay-vic"))
        context = self.context()
        self.log_in(context, login, PASSWORD)
        # Another origin (another port of the same host, so the same site: the SameSite=Strict cookie
        # IS sent, and only the CSRF rule stands between the form and the bet).
        body = json.dumps({"event_id": event, "amount": "50.00"})[:-1]
        attack = f"""<!doctype html><html><body>
            <form id="f" method="POST" action="{self.base_url}/bets" enctype="text/plain">
              <input type="hidden" name='{body}, "x": "' value='"}}'>
            </form>
            <script>document.getElementById("f").submit();</script></body></html>"""
        server = serve_once(attack)
        try:
            page = context.new_page()
            with page.expect_response(lambda r: r.url.endswith("/bets")) as answer:
                page.goto(f"http://127.0.0.1:{server.server_address[1]}/")
            response = answer.value
            assert response.status == 403 and "/problems/csrf" in response.text(), (response.status, response.text())
        finally:
            server.shutdown()
        _, me = self.api.call("GET", "/users/me", token=token)
        assert me["accounts"][0]["balance"] == "50.00", me
        _, bets = self.api.call("GET", "/bets", token=token)
        assert bets == [], bets
        context.close()


def serve_once(html: str) -> http.server.ThreadingHTTPServer:
    """A page on another origin (a free loopback port), served until `shutdown()`."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the standard library's name
            payload = html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *_: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--products", type=Path, default=ROOT / ".build" / "debug", help="folder of betmaker-api and betmaker-worker")
    parser.add_argument("--screenshots", type=Path, default=ROOT / ".build-tools" / "browser-screenshots")
    parser.add_argument("--chromium", default=os.environ.get("CHROMIUM", "/usr/bin/chromium"))
    parser.add_argument("--only", default="", help="run the scenarios whose names contain this")
    parser.add_argument("--widths", default="1280,390", help="the viewport widths to run at (1280, 390)")
    parser.add_argument("--docs", type=Path, help="copy the tour's screenshots here as ui-<page>-<width>.png")
    arguments = parser.parse_args()
    arguments.screenshots.mkdir(parents=True, exist_ok=True)
    scenarios = [
        "new_player_bets_and_sees_the_result_live",
        "two_operators_report_at_once",
        "disabled_player_is_told_why",
        "cross_site_form_changes_nothing",
        "trader_takes_an_assigned_event_and_reports_it",
        "operator_manages_the_catalogue",
        "operator_re_drives_dead_letters_and_erases_a_contact",
        "trade_screen_places_counts_down_and_shows_the_result",
        "trade_chart_draws_live_ticks",
        "tour_every_page_fits_and_passes_axe",
    ]
    widths = [int(width) for width in arguments.widths.split(",")]
    failed: list[str] = []
    passed = 0
    axe: dict[str, dict[str, dict[str, object]]] = {}
    with tempfile.TemporaryDirectory(prefix="betmaker-browser-") as directory:
        stack = contract.Stack(arguments.products.resolve(), Path(directory))
        try:
            stack.start()
            log(f"API at {stack.base_url}")
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=arguments.chromium, args=["--no-sandbox"])
                for width in widths:
                    suite = Suite(browser, stack.base_url, arguments.screenshots, stack.redis_url, width, axe)
                    for scenario in scenarios:
                        if arguments.only not in scenario:
                            continue
                        started = time.monotonic()
                        try:
                            getattr(suite, scenario)()
                            passed += 1
                            log(f"{scenario} at {width} px: passed in {time.monotonic() - started:.1f} s")
                        except Exception:  # noqa: BLE001 - a failed scenario is reported, and the others still run
                            failed.append(f"{scenario} at {width} px")
                            log(f"{scenario} at {width} px: FAILED\n{traceback.format_exc()}")
                browser.close()
            if failed:
                log("the API's log, last lines:\n" + stack.log_tail("betmaker-api"))
        finally:
            stack.stop()
    report_axe(axe, arguments.screenshots / "axe-results.json")
    if arguments.docs:
        for shot in sorted(arguments.screenshots.glob("tour-*.png")):
            shutil.copyfile(shot, arguments.docs / ("ui-" + shot.name.removeprefix("tour-")))
    log("all passed" if not failed else f"failed: {', '.join(failed)}")
    print(f"browser: {passed} passed, {len(failed)} failed", flush=True)
    return 0 if not failed else 1




if __name__ == "__main__":
    sys.exit(main())
