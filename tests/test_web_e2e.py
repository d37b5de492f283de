"""End to end in a real headless Chromium (Debian's ``chromium``, driven by Playwright) against the
real server (``perfxl serve`` in a subprocess on 127.0.0.1): a bureau signs in, uploads a roster,
downloads a template, drops three returns (one broken) on 收表, a unit uploads through its link,
statuses change, a finding is opened, the summary is made and downloaded.

Every page is screenshotted at 1366×768 into ``$PERFXL_SCREENSHOTS`` (else the test's temporary
folder) — to be looked at, not compared.
"""

from __future__ import annotations

import os
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("starlette")
from webserver import PASSWORD, make_return, running_server  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
pytestmark = pytest.mark.chromium


@pytest.fixture
def browser() -> Iterator[object]:
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed (.ci/install-system-deps.sh installs it)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def test_a_bureau_and_a_unit_in_the_browser(tmp_path: Path, browser: object) -> None:
    from playwright.sync_api import Browser, Page, expect

    assert isinstance(browser, Browser)
    shots = Path(os.environ.get("PERFXL_SCREENSHOTS") or tmp_path / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    files = tmp_path / "returns"
    files.mkdir()
    roster = files / "单位名册.csv"
    roster.write_text("预算编码,单位名称\n001,甲单位\n002,乙单位\n003,丙单位\n004,丁单位\n", encoding="utf-8")
    bad = make_return(files / "甲单位_2020.xlsx", "甲单位", "001")  # P3 self-scored 3: an 错误
    warned = make_return(files / "乙单位_2020.xlsx", "乙单位", "002", p3=2)  # no 扣分原因: a 警告
    broken = files / "丁单位_2020.xlsx"
    broken.write_bytes(bad.read_bytes()[:5000])  # cut short in transit
    clean = make_return(files / "丙单位_2020.xlsx", "丙单位", "003", p3=2, note="有结余，未超过上年结转")
    data = tmp_path / "data"
    n = 0

    def shot(page: Page, name: str) -> None:
        nonlocal n
        n += 1
        page.screenshot(path=str(shots / f"{n:02d}_{name}.png"), full_page=False)

    with running_server(data) as base:
        bureau = browser.new_context(
            viewport={"width": 1366, "height": 768}, locale="zh-CN", accept_downloads=True
        )
        page = bureau.new_page()
        page.goto(base + "/units")
        expect(page).to_have_url(re.compile(r"/login\?next="))
        shot(page, "登录")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        expect(page.locator("h1")).to_have_text("年度任务")  # no task yet: sent to set one up
        shot(page, "年度任务")

        page.fill("#year", "2020")
        page.set_input_files("#roster", str(roster))
        page.click("text=导入名册")
        expect(page.locator(".flash")).to_contain_text("新增 4 个")
        shot(page, "单位与报送链接")
        unit_link = page.locator("tr", has_text="丙单位").locator("td.link a").inner_text()
        assert re.fullmatch(re.escape(base) + r"/u/[A-Za-z0-9_-]{32}", unit_link)
        warned_link = page.locator("tr", has_text="乙单位").locator("td.link a").inner_text()

        page.click("nav.main >> text=模板")
        shot(page, "模板")
        with page.expect_download() as got:
            page.locator("tr", has_text="甲单位").locator("a").click()
        template = tmp_path / got.value.suggested_filename
        got.value.save_as(template)
        assert template.name == "001_甲单位.xlsx" and zipfile.is_zipfile(template)

        page.click("nav.main >> text=收表")
        shot(page, "收表_空")
        page.set_input_files("input[type=file]", [str(bad), str(warned), str(broken)])
        progress = page.locator("#progress li")
        expect(progress).to_have_count(3)
        shot(page, "收表_上传中")
        page.wait_for_url(re.compile(r"/intake"), wait_until="load")
        expect(page.locator("table.grid tbody tr")).to_have_count(3, timeout=60_000)
        expect(page.locator("table.grid")).to_contain_text("无法使用")
        shot(page, "收表_已审核")

        unit_ctx = browser.new_context(
            viewport={"width": 1366, "height": 768}, locale="zh-CN", accept_downloads=True
        )
        unit = unit_ctx.new_page()
        unit.goto(unit_link)
        expect(unit.locator("h1")).to_contain_text("丙单位")
        expect(unit.locator("h1 .tag")).to_have_text("未报送")
        shot(unit, "单位页_未报送")
        unit.set_input_files("input[type=file]", str(clean))
        expect(unit.locator("h1 .tag")).to_have_text("已通过", timeout=60_000)
        shot(unit, "单位页_已通过")
        with unit.expect_download() as got:
            unit.click("text=下载审核副本")
        assert got.value.suggested_filename == "丙单位_2020_审核.xlsx"
        assert "甲单位" not in unit.content()  # another unit is nowhere to be seen

        page.click("nav.main >> text=单位一览")
        table = page.locator("table.grid tbody")
        # The broken file cannot be read, so nobody can tell it is 丁's: 丁 has still not reported.
        for name, status in (
            ("甲单位", "有错误"),
            ("乙单位", "待说明"),
            ("丙单位", "已通过"),
            ("丁单位", "未报送"),
        ):
            expect(table.locator("tr", has_text=name).locator(".tag")).to_have_text(status)
        shot(page, "单位一览")
        page.click("a:has-text('状态')")
        shot(page, "单位一览_按状态排序")

        page.locator("tr", has_text="甲单位").locator("text=问题").click()
        expect(page.locator("table.grid").first).to_contain_text("资金结余")
        expect(page.locator("tr.row-错误").first).to_contain_text("评分表!F")
        shot(page, "问题")
        page.locator("p.lead a", has_text="甲单位").click()
        expect(page.locator("h1")).to_contain_text("甲单位")
        shot(page, "单位_财政局视图")

        # 乙 explains its 警告 on its own page instead of changing the file (fix or explain).
        unit.goto(warned_link)
        expect(unit.locator("h1 .tag")).to_have_text("待说明")
        unit.locator("tr.row-警告 textarea").fill("资金结余为年底拨入的专项资金，次年初已拨付使用")
        shot(unit, "单位页_写说明")
        unit.locator("tr.row-警告 button", has_text="保存说明").click()
        expect(unit.locator(".flash")).to_contain_text("说明已保存")
        expect(unit.locator("h1 .tag")).to_have_text("已通过")
        expect(unit.locator("tr.row-警告.explained")).to_contain_text("已说明")
        shot(unit, "单位页_已说明")

        page.goto(base + "/units?year=2020")
        expect(table.locator("tr", has_text="乙单位").locator(".tag")).to_have_text("已通过")
        expect(table.locator("tr", has_text="乙单位")).to_contain_text("已说明 1")
        shot(page, "单位一览_说明之后")
        page.locator("tr", has_text="乙单位").locator("td a", has_text="乙单位").click()
        expect(page.locator("table.findings")).to_contain_text(
            "资金结余为年底拨入的专项资金"
        )  # the bureau sees it
        shot(page, "单位_财政局看说明")

        page.click("nav.main >> text=汇总")
        shot(page, "汇总_未生成")
        page.click("button:has-text('生成汇总')")
        for _ in range(120):
            if page.locator("text=下载汇总工作簿").count():
                break
            page.wait_for_timeout(500)
            page.reload()
        expect(page.locator("svg")).to_have_count(4)
        shot(page, "汇总")
        page.locator("h2", has_text="规则统计").scroll_into_view_if_needed()
        page.wait_for_timeout(200)
        shot(page, "汇总_规则统计")
        with page.expect_download() as got:
            page.click("text=下载汇总工作簿")
        summary = tmp_path / "汇总.xlsx"
        got.value.save_as(summary)
        assert zipfile.is_zipfile(summary)

        page.click("nav.main >> text=历年")
        page.locator("td a", has_text="甲单位").click()
        expect(page.locator("table.grid").first).to_contain_text("2020")
        shot(page, "历年")
        unit_ctx.close()
        bureau.close()
    assert n >= 18
