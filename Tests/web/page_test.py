#!/usr/bin/env python3
"""A person at the page: opens the login link, sees their instance running, resets it, watches it come back.

Run by Tests/IntegrationTests/PageTests.swift with the venv Scripts/test-deps makes:
    page_test.py LINK --instance dev --screenshots DIR
Exits non-zero with a message on the first thing that does not happen within its deadline.
"""
import argparse
import os
import sys
import time

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait


def browser():
    options = Options()
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1100,1000", "--disable-gpu"):
        options.add_argument(flag)
    options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    return webdriver.Chrome(service=Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")), options=options)


def badge(driver, instance):
    # Read in the page: it re-renders as news arrives, so element handles go stale.
    return driver.execute_script(
        "const b = document.querySelector(`section.card[data-instance='${arguments[0]}'] .badge`); return b && b.textContent",
        instance)


def click(driver, selector, seconds=20):
    """Clicks what `selector` finds, again if the page re-rendered it meanwhile."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            WebDriverWait(driver, max(1, deadline - time.monotonic())).until(
                EC.element_to_be_clickable((By.CSS_SELECTOR, selector))).click()
            return
        except StaleElementReferenceException:
            if time.monotonic() > deadline:
                raise


def card_text(driver, instance):
    return driver.execute_script(
        "const c = document.querySelector(`section.card[data-instance='${arguments[0]}']`); return c ? c.innerText : ''", instance)


def wait_badge(driver, instance, wanted, seconds):
    deadline = time.monotonic() + seconds
    seen = None
    while time.monotonic() < deadline:
        seen = badge(driver, instance)
        if seen == wanted:
            return
        time.sleep(0.1)
    raise SystemExit(f"the card of {instance} did not show {wanted!r} within {seconds} s (it showed {seen!r})")


def open_application(driver, card, screenshots, shot, present, absent, seconds=30):
    """Follows the card's Open link, as a person would, and waits until the application shows `present` and not `absent`
    (its cache lasts a few seconds); then back to the page."""
    page = driver.current_url
    link = WebDriverWait(driver, 30).until(EC.element_to_be_clickable((By.CSS_SELECTOR, f"{card} a[data-open]")))
    if link.text.strip() != "Open":
        raise SystemExit(f"the application's link reads {link.text!r}, not 'Open'")
    address = link.get_attribute("href")
    if not address.startswith("http://127.0.0.1:"):
        raise SystemExit(f"the Open link goes to {address!r}")
    deadline = time.monotonic() + seconds
    while True:
        driver.get(address)
        body = driver.find_element(By.TAG_NAME, "body").text
        if all(t in body for t in present) and not any(t and t in body for t in absent):
            break
        if time.monotonic() > deadline:
            raise SystemExit(f"the application at {address} did not show {present} without {absent} within {seconds} s:\n{body}")
        time.sleep(0.5)
    driver.save_screenshot(os.path.join(screenshots, shot))
    driver.get_log("browser")  # what the application's own page logged is not the sandbox page's
    driver.get(page)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("link")
    parser.add_argument("--instance", default="dev")
    parser.add_argument("--screenshots", default=".")
    parser.add_argument("--password", help="the instance's database password, which must stay hidden until asked")
    parser.add_argument("--seeded", action="append", default=[], help="a title the application shows from its fresh data")
    parser.add_argument("--added", help="a title added by hand, shown until the reset")
    args = parser.parse_args()
    driver = browser()
    try:
        base = args.link.split("/?token=")[0]
        # Without the link: the page asks the person to sign in.
        driver.get(base + "/")
        WebDriverWait(driver, 20).until(EC.visibility_of_element_located((By.ID, "signin")))
        driver.get_log("browser")  # the 401s of that visit were the point
        driver.get(args.link)
        if "token=" in driver.current_url:
            raise SystemExit(f"the token stayed in the address bar: {driver.current_url}")
        wait_badge(driver, args.instance, "Running", 60)
        card = f'section.card[data-instance="{args.instance}"]'
        text = card_text(driver, args.instance)
        for needed in ("postgresql://", "jdbc:postgresql://", "jdbc:mariadb://", "mysql://"):
            if needed not in text:
                raise SystemExit(f"the card does not show a {needed} connection string:\n{text}")
        if args.password and args.password in driver.page_source:
            raise SystemExit("the password is on the page before anyone asked for it")
        driver.save_screenshot(os.path.join(args.screenshots, "page-running.png"))
        if args.seeded:
            open_application(driver, card, args.screenshots, "app-before.png", present=args.seeded + [args.added], absent=[])
        if args.password:
            click(driver, f'{card} [data-action="reveal"]')
            WebDriverWait(driver, 30).until(lambda d: args.password in card_text(d, args.instance))
            click(driver, f'{card} [data-action="reveal"]')
            WebDriverWait(driver, 30).until(lambda d: args.password not in d.page_source)
        # Reset: a confirmation first (it discards data), then progress, then running again.
        click(driver, f'{card} [data-action="reset"]')
        dialog = WebDriverWait(driver, 10).until(EC.visibility_of_element_located((By.ID, "confirm")))
        if "thrown away" not in dialog.text:
            raise SystemExit(f"the reset confirmation does not say data is discarded: {dialog.text!r}")
        driver.save_screenshot(os.path.join(args.screenshots, "page-confirm.png"))
        click(driver, "#confirm-ok")
        wait_badge(driver, args.instance, "Working…", 30)
        WebDriverWait(driver, 60).until(lambda d: d.find_elements(By.CSS_SELECTOR, f'{card} .steps li'))
        driver.save_screenshot(os.path.join(args.screenshots, "page-working.png"))
        wait_badge(driver, args.instance, "Running", 300)
        driver.save_screenshot(os.path.join(args.screenshots, "page-back.png"))
        if "failed:" in card_text(driver, args.instance):
            raise SystemExit(f"the reset shows a failure: {card_text(driver, args.instance)}")
        if args.seeded:
            open_application(driver, card, args.screenshots, "app-after.png", present=args.seeded, absent=[args.added])
        errors = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
        if errors:
            raise SystemExit(f"the page logged errors: {errors}")
        print("page test passed")
    finally:
        driver.quit()


if __name__ == "__main__":
    sys.exit(main())
