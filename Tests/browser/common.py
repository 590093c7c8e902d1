"""What the browser suite's modules share: who logs in, how long to wait, the viewports."""

from __future__ import annotations

from playwright.sync_api import expect

# The administrator `betmaker-api seed` makes with the contract stack's SEED_ADMIN_PASSWORD.
ADMIN = ("admin", "contract-admin-password")
PASSWORD = "a long password"
TIMEOUT_MS = 20_000
expect.set_options(timeout=TIMEOUT_MS)
# A desktop and a phone (an iPhone 13's CSS width and height), each in a time zone and language of its
# own, so that the pages' times are seen converted.
VIEWPORTS = {1280: {"width": 1280, "height": 800}, 390: {"width": 390, "height": 844}}
ZONES = {1280: ("Europe/Berlin", "en-GB"), 390: ("America/New_York", "en-US")}


def log(message: str) -> None:
    print(f"browser: {message}", flush=True)
