#!/usr/bin/env python3
"""A person at the page's previews: finds the branch's preview ready, opens its application, presses Keep.

Run by Tests/IntegrationTests/PreviewTests.swift with the venv Scripts/test-deps makes:
    preview_test.py LINK --branch feature/a --shows "Debian [alpha]" --screenshots DIR
Exits non-zero with a message on the first thing that does not happen within its deadline.
"""
import argparse
import os
import sys
import time

from selenium.webdriver.common.by import By

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from page_test import browser, click  # noqa: E402


def preview(driver, branch):
    """The preview's line as the page shows it now: its state, its text, its end, and its Open links."""
    return driver.execute_script(
        """const p = [...document.querySelectorAll('[data-preview]')].find((e) => e.dataset.branch === arguments[0]);
           return p && { state: p.dataset.state, text: p.innerText, id: p.dataset.preview,
                         links: [...p.querySelectorAll('a.button')].map((a) => a.href) };""", branch)


def wait(what, seconds, condition):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.2)
    raise SystemExit(f"{what} did not happen within {seconds} s")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("link")
    parser.add_argument("--branch", required=True)
    parser.add_argument("--shows", required=True, help="a text the preview's application shows")
    parser.add_argument("--screenshots", default=".")
    args = parser.parse_args()
    driver = browser()
    try:
        driver.get(args.link)
        found = wait(f"the preview of {args.branch} shown ready", 60,
                     lambda: (p := preview(driver, args.branch)) and p["state"] == "ready" and p)
        if "removed in" not in found["text"] or "Made" not in found["text"]:
            raise SystemExit(f"the preview's line does not say its age and end: {found['text']!r}")
        if not found["links"] or not found["links"][0].startswith("http://127.0.0.1:"):
            raise SystemExit(f"the preview has no link to its application: {found}")
        driver.execute_script("document.getElementById('previews').scrollIntoView()")
        driver.save_screenshot(os.path.join(args.screenshots, "previews.png"))
        # Its application, as a person follows the link.
        page = driver.current_url
        driver.get(found["links"][0])
        wait(f"the application showing {args.shows!r}", 30,
             lambda: args.shows in driver.find_element(By.TAG_NAME, "body").text or driver.refresh())
        driver.save_screenshot(os.path.join(args.screenshots, "preview-application.png"))
        driver.get(page)
        wait("the previews again", 30, lambda: preview(driver, args.branch))
        click(driver, f"[data-preview='{found['id']}'] button[data-action='keep']")
        print(f"kept {found['id']}")
        errors = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
        if errors:
            raise SystemExit(f"the page logged errors: {errors}")
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
