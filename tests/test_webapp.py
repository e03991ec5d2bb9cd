"""The local web app: its form, a journey and a cohort run from it, and its refusals; and the
same in headless Chromium (load the page, change inputs, run, read the results off it)."""

from __future__ import annotations

import shutil
import threading
import time

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
    page = _finished_cohort(client, {"patients": "30", "lymphodepletion": "none"})
    assert "<td>orr</td>" in page and "<h2>30 patients</h2>" in page
    assert page.count("<figure class='cohort-figure'>") == 3 and page.count("<svg") >= 3
    assert "Swimmer plot" in page and "CRS onset" in page
    assert "<option selected>none</option>" in page  # the form keeps what was asked


def _finished_cohort(client, form: dict, timeout_s: float = 120.0) -> str:
    """Start a cohort from the form and follow its page until the results are there,
    checking that it shows its progress meanwhile."""
    started = client.post("/run", data=form)
    assert started.status_code == 303
    where = started.headers["Location"]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        response = client.get(where)
        page = response.get_data(as_text=True)
        if "id='progress'" not in page:
            assert response.status_code == 200, page
            return page
        assert "http-equiv='refresh'" in page and "done" in page
        time.sleep(0.2)
    raise AssertionError(f"the cohort did not finish in {timeout_s} s")


def test_an_unknown_cohort_says_so(client):
    response = client.get("/cohort/nonsense")
    assert response.status_code == 404 and "no such cohort" in response.get_data(as_text=True)


def test_progress_counts_the_patients_done_chunk_by_chunk():
    """The page's progress is the trial's own count after each chunk."""
    from cartsim.journey import protocol_from_mapping
    from cartsim.report import webapp

    seen = []
    protocol = protocol_from_mapping({"follow_up_days": 30.0, "visits": {"days": [28.0]},
                                      "rescue": {"enabled": False}})
    webapp._cohort(protocol, 2 * webapp.COHORT_CHUNK + 3, lambda done, todo: seen.append(
        (done, todo)))
    total = 2 * webapp.COHORT_CHUNK + 3
    assert seen == [(webapp.COHORT_CHUNK, total), (2 * webapp.COHORT_CHUNK, total),
                    (total, total)]


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
            page.fill("#patients", "30")
            page.click("#run")  # a cohort: its page reloads itself until the results are in
            page.wait_for_selector("#endpoints", timeout=120_000)
            assert page.locator("figure.cohort-figure svg").count() == 3
            assert page.input_value("#patients") == "30"
            page.fill("#patients", "1")
            page.fill("#dose_cells", "lots")
            page.click("#run")
            assert "must be a number" in page.inner_text("#problem")
        finally:
            browser.close()
