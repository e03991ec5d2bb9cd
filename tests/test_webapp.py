"""The local web app: its form, a journey and a cohort run from it, and its refusals; and the
same in headless Chromium (load the page, change inputs, run, read the results off it)."""

from __future__ import annotations

import shutil
import threading

import pytest

from cartsim.report.webapp import MAX_PATIENTS, create_app


@pytest.fixture(scope="module")
def client():
    return create_app().test_client()


def test_the_form_offers_every_choice(client):
    page = client.get("/").get_data(as_text=True)
    for name in ("product", "disease", "dose_cells", "lymphodepletion", "policy", "patients"):
        assert f"name='{name}'" in page
    assert "<option selected>axi-cel</option>" in page and "<option>tisa-cel</option>" in page


def test_one_journey_and_a_cohort_run_from_the_form(client):
    one = client.post("/run", data={"product": "tisa-cel", "disease": "b-all", "patients": "1"})
    page = one.get_data(as_text=True)
    assert one.status_code == 200 and "id='swimmer'" in page and "data:image/png;base64," in page
    assert "<td>infusion</td>" in page and "id='grades'" in page
    cohort = client.post("/run", data={"patients": "3", "lymphodepletion": "none"})
    assert cohort.status_code == 200 and "<td>orr</td>" in cohort.get_data(as_text=True)


@pytest.mark.parametrize("form, problem", [
    ({"dose_cells": "lots"}, "dose: must be a number"),
    ({"dose_cells": "-5"}, "infusion.dose_cells: must be from"),
    ({"patients": str(MAX_PATIENTS + 1)}, "at most"),
    ({"product": "ide-cel", "disease": "lbcl"}, "BCMA"),
    ({"policy": "whatever"}, "policy"),
])
def test_a_wrong_input_is_shown_on_the_page(client, form, problem):
    response = client.post("/run", data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "id='problem'" in page and problem in page
    assert "Traceback" not in page


@pytest.fixture
def server():
    from werkzeug.serving import make_server

    app_server = make_server("127.0.0.1", 0, create_app(), threaded=True)
    thread = threading.Thread(target=app_server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{app_server.server_port}/"
    app_server.shutdown()


@pytest.mark.skipif(shutil.which("chromium") is None,
                    reason="headless Chromium (Debian package chromium) is not installed")
def test_the_app_in_headless_chromium(server):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"),
                                             args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.goto(server)
            page.select_option("#product", "tisa-cel")
            page.select_option("#disease", "b-all")
            page.fill("#seed", "4")
            page.click("#run")
            page.wait_for_selector("#outcome", timeout=120_000)
            assert "Best response" in page.inner_text("#outcome")
            assert page.locator("#events tr").count() > 3
            assert page.eval_on_selector("#swimmer", "img => img.naturalWidth") > 100
            page.fill("#dose_cells", "lots")
            page.click("#run")
            assert "must be a number" in page.inner_text("#problem")
        finally:
            browser.close()
