"""Scenarios 9 and 10 of run.py: the trade screen's chart, and the tour of every page with axe-core.

`Tour` is mixed into run.py's `Suite`, whose helpers (`context`, `log_in`, `navigate`, `manage`,
`fits`, `shot`, `name`, `api`, `dead_letter`) it uses.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from common import ADMIN, PASSWORD, TIMEOUT_MS, log

# What fails the axe check; moderate and minor findings are reported, not failed.
AXE_FAILING = ("serious", "critical")
AXE_IMPACTS = ("critical", "serious", "moderate", "minor")


class Tour:
    def trade_chart_draws_live_ticks(self) -> None:
        login = self.name("cleo")
        user_id, account_id, _ = self.api.player(login)
        self.api.deposit(user_id, account_id, "50.00", self.name("pay-cleo"))
        context = self.context()
        page = self.log_in(context, login, PASSWORD)
        self.navigate(page, "/ui/trades")
        expect(page.locator("body[data-live-state=open]")).to_have_count(1)
        line = page.locator("svg[data-chart] path[data-chart-line]")
        expect(line).to_have_attribute("data-points", re.compile(r"^[1-9]\d*$"))
        # A mark that a reload would wipe out.
        page.evaluate("window.notReloaded = true")
        before = int(line.get_attribute("data-points"))
        page.wait_for_function(
            "n => Number(document.querySelector('path[data-chart-line]').dataset.points) > n", arg=min(before, 299), timeout=TIMEOUT_MS)
        after = int(line.get_attribute("data-points"))
        # The path holds as many points as it says: one move, then a line to each further tick.
        d = line.get_attribute("d")
        assert d.startswith("M") and d.count("L") == after - 1, (after, d[:200])
        assert page.evaluate("window.notReloaded === true"), "the page was reloaded"
        assert after > before or before >= 299, (before, after)
        expect(page.locator("[data-chart-price]")).to_have_text(re.compile(r"^[\d,]+\.\d{2}$"))

        # A trade, once the next tick opens it, is drawn at its start and stop-out prices, and the chart's
        # header counts down to its expiry.
        form = page.locator('form[data-form="trade"]')
        form.locator("input[name=amount]").fill("5")
        form.locator("input[name=leverage]").fill("50")
        form.locator("input[name=duration]").fill("60")
        form.locator("button[type=submit]").click()
        expect(form.locator("[data-placed]")).to_contain_text("it opens at the next price")
        expect(page.locator("svg[data-chart] line[data-trade-line=start]")).to_have_count(1)
        expect(page.locator("svg[data-chart] [data-trade-line=stop]")).to_have_count(1)
        expect(page.locator("[data-chart-countdown]")).to_have_text(re.compile(r"^Trade \S+ expires in (0|1):\d{2}$"))
        expect(page.locator("[data-chart-summary]")).to_contain_text("1 open trade drawn")
        self.shot(page, "trades-chart")
        context.close()

    # MARK: The tour: every page, each role, axe

    def check_accessibility(self, page: Page, name: str, role: str) -> None:
        """axe-core on the page as it is: counts by impact recorded, serious or critical ones fail."""
        results = Axe().run(page)
        counts = {impact: 0 for impact in AXE_IMPACTS}
        for violation in results.response["violations"]:
            counts[violation["impact"] or "minor"] += 1
        # The rules found, beside the counts: what a moderate or minor finding was.
        counts["rules"] = sorted({f"{v['id']} ({v['impact']})" for v in results.response["violations"]})
        self.axe.setdefault(f"{name} ({self.width} px)", {})[role] = counts
        failing = [v for v in results.response["violations"] if v["impact"] in AXE_FAILING]
        assert not failing, f"axe on {name} as {role} at {self.width} px:\n" + results.generate_report()

    def visit(self, page: Page, href: str, name: str, role: str, shot: bool = True) -> None:
        page.goto(href)
        if page.evaluate("!!document.body.dataset.live"):
            expect(page.locator("body[data-live-state=open]")).to_have_count(1)
        self.fits(page)
        self.check_accessibility(page, name, role)
        if shot:
            self.shot(page, f"tour-{name}")

    def tour_every_page_fits_and_passes_axe(self) -> None:
        # Something on every page: a bet, a trade, a dead letter, a contact, an event assigned to a trader.
        event = self.name("tour")
        self.api.event(self.admin, event, title="Harbour derby")
        login = self.name("tom")
        user_id, account_id, token = self.api.player(login)
        self.api.deposit(user_id, account_id, "200.00", self.name("pay-tom"))
        assert self.api.call("POST", "/bets", {"event_id": event, "amount": "12.50"}, token)[0] == 201
        assert self.api.call("POST", "/plays", {"email": login + "@example.com"}, token)[0] == 200
        quote = self.api.call("GET", "/crypto/quotes")[1]
        assert quote, "the simulated feed has prices"
        trade = {"symbol": "BTC", "direction": "up", "amount": "10.00", "leverage": 20, "duration": 3600}
        assert self.api.call("POST", "/trades", trade, token)[0] == 201
        self.dead_letter("malformed entry", "event_id", self.name("tour-nothing"))
        trader_login = self.name("tina")
        trader_id, _, _ = self.api.player(trader_login)
        assert self.api.call("PATCH", f"/admin/users/{trader_id}", {"role": "trader"}, self.admin)[0] == 200
        assigned = self.name("tour-assigned")
        self.api.event(self.admin, assigned, title="Assigned friendly")
        assert self.api.call("POST", f"/events/{assigned}/assign", {"trader_id": trader_id}, self.admin)[0] == 200

        anonymous = self.context()
        page = anonymous.new_page()
        self.visit(page, "/ui/login", "login", "anonymous")
        self.visit(page, "/ui/activate/" + "A" * 43, "activate", "anonymous", shot=False)
        expect(page.locator("[data-activate]")).to_have_class("error")
        self.check_accessibility(page, "activate (unknown link)", "anonymous")
        self.visit(page, "/ui/register", "register", "anonymous", shot=False)
        page.fill("input[name=login]", "x")
        page.fill("input[name=password]", "short")
        page.click("button[type=submit]")
        expect(page.locator("[data-error-for=password]")).not_to_be_empty()
        self.check_accessibility(page, "register (refused)", "anonymous")
        self.shot(page, "tour-register-error")
        anonymous.close()

        player = self.context()
        page = self.log_in(player, login, PASSWORD)
        for href, name in [("/ui/events", "events"), ("/ui/bets", "bets"), ("/ui/trades", "trades"), ("/ui/wallet", "wallet")]:
            self.visit(page, href, name, "player")
        page.goto("/ui/operator/events")
        self.check_accessibility(page, "refused", "player")
        player.close()

        trader = self.context()
        page = self.log_in(trader, trader_login, PASSWORD)
        self.visit(page, "/ui/trader/events", "trader-events", "trader")
        for href, name in [("/ui/events", "events"), ("/ui/trades", "trades")]:
            self.visit(page, href, name, "trader", shot=False)
        trader.close()

        operator = self.context()
        page = self.log_in(operator, *ADMIN)
        # The catalogue as a result is settled: the event's bar fills from the feed.
        self.visit(page, "/ui/operator/events", "operator-events", "administrator", shot=False)
        row = page.locator(f'tr[data-event-id="{event}"]')
        row.locator('button[data-report="WIN"]').click()
        expect(row.locator("[data-progress]")).to_contain_text("1 of 1 settled, paid 23.12")
        expect(row.locator("progress")).to_have_js_property("value", 1)
        self.check_accessibility(page, "operator-events (settled)", "administrator")
        self.shot(page, "tour-operator-events")
        for href, name in [("/ui/operator/users", "operator-users"),
                           ("/ui/operator/dead-letters", "operator-dead-letters"), ("/ui/operator/contacts", "operator-contacts")]:
            self.visit(page, href, name, "administrator")
        for href, name in [("/ui/events", "events"), ("/ui/bets", "bets"), ("/ui/trades", "trades"), ("/ui/wallet", "wallet")]:
            self.visit(page, href, name, "administrator", shot=False)
        # The manage dialog, open; and on a phone the folded menu, open.
        page.goto("/ui/operator/events")
        page.click("details.create summary")
        self.check_accessibility(page, "operator-events (new event open)", "administrator")
        self.manage(page.locator(f'tr[data-event-id="{assigned}"]'))
        self.check_accessibility(page, "operator-events (manage dialog)", "administrator")
        # The viewport alone: a full-page capture would draw the modal's backdrop over part of the page only.
        self.fits(page)
        page.screenshot(path=str(self.screenshots / f"tour-operator-manage-{self.width}.png"))
        page.keyboard.press("Escape")
        menu = page.locator("button[data-menu]")
        if menu.is_visible():
            menu.click()
            expect(page.locator("#site-nav")).to_be_visible()
            self.check_accessibility(page, "menu open", "administrator")
            page.screenshot(path=str(self.screenshots / f"tour-menu-{self.width}.png"))
        # Focus is visible: the first link after "Skip to content" gets an outline.
        page.goto("/ui/operator/events")
        page.keyboard.press("Tab")
        expect(page.locator("a.skip")).to_be_focused()
        outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert outline == "solid", outline
        operator.close()


def report_axe(axe: dict[str, dict[str, dict[str, object]]], path: Path) -> None:
    """The axe findings per page and role, violations counted by impact: printed, and saved as JSON."""
    if not axe:
        return
    path.write_text(json.dumps(axe, indent=2, sort_keys=True) + "\n")
    log("axe-core violations by impact (critical/serious/moderate/minor):")
    for page in sorted(axe):
        for role, counts in sorted(axe[page].items()):
            found = ", ".join(counts["rules"])
            log(f"  {page:45} {role:14} " + "/".join(str(counts[impact]) for impact in AXE_IMPACTS) + (f"  {found}" if found else ""))
