"""``perfxl serve`` driven in-process with the framework's test client, over a real store (SQLite in
a temporary folder; PostgreSQL at the end): sign-in, CSRF, the API token, uploads and their checks,
statuses, unit isolation, the size limit, hostile files, templates, the summary and 历年."""

from __future__ import annotations

import dataclasses
import io
import json
import re
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx2")

from click.testing import CliRunner  # noqa: E402
from openpyxl import Workbook  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402
from webserver import PASSWORD, TOKEN, make_return  # noqa: E402

from perfxl.batch.store import open_store  # noqa: E402
from perfxl.cli import cli  # noqa: E402
from perfxl.web import jobs  # noqa: E402
from perfxl.web.app import create_app  # noqa: E402
from perfxl.web.settings import Settings  # noqa: E402

ROSTER = "预算编码,单位名称\n001,甲单位\n002,乙单位\n003,丙单位\n"
BEARER = {"Authorization": f"Bearer {TOKEN}"}


@contextmanager
def web(tmp_path: Path, **overrides: Any) -> Iterator[TestClient]:
    settings = Settings(
        data_dir=tmp_path / "data", password=PASSWORD, token=TOKEN, secret="s" * 32, workers=2, **overrides
    )
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
        yield client


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has no form token"
    return found.group(1)


def sign_in(client: TestClient) -> str:
    """Sign the bureau in; the session's CSRF token."""
    token = csrf_of(client.get("/login").text)
    r = client.post("/login", data={"password": PASSWORD, "csrf": token}, follow_redirects=False)
    assert r.status_code == 303
    return csrf_of(client.get("/tasks").text)


def make_task(
    client: TestClient, csrf: str, roster: str = ROSTER, name: str = "名册.csv", year: int = 2020
) -> None:
    data = roster.encode("utf-8") if isinstance(roster, str) else roster
    r = client.post(
        "/tasks",
        data={"year": str(year), "edition": "hunan-2020", "csrf": csrf},
        files={"roster": (name, data)},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == f"/tasks/{year}", r.text


def links(client: TestClient, year: int = 2020) -> dict[str, str]:
    """{unit name: its link path /u/<token>}"""
    units = client.get(f"/tasks/{year}.json").json()["units"]
    return {u["name"]: "/u/" + u["link"].rsplit("/u/", 1)[1] for u in units if u["link"]}


def wait(client: TestClient, url: str) -> dict[str, Any]:
    for _ in range(300):
        data = client.get(url).json()
        upload = data["upload"]
        if upload["state"] == "done":
            return upload  # type: ignore[no-any-return]
        time.sleep(0.1)
    raise AssertionError(f"{url} not checked in time")


def bureau_upload(client: TestClient, csrf: str, path: Path, name: str | None = None) -> dict[str, Any]:
    r = client.post(
        "/intake?year=2020",
        data={"csrf": csrf},
        files={"file": (name or path.name, path.read_bytes())},
        headers={"Accept": "application/json"},
    )
    assert r.status_code == 200, r.text
    return wait(client, f"/uploads/{r.json()['uploads'][0]['id']}.json")


def unit_upload(client: TestClient, link: str, path: Path, name: str | None = None) -> dict[str, Any]:
    page = client.get(link)
    r = client.post(
        f"{link}/upload",
        data={"csrf": csrf_of(page.text)},
        files={"file": (name or path.name, path.read_bytes())},
        headers={"Accept": "application/json"},
    )
    assert r.status_code == 200, r.text
    return wait(client, f"{link}/uploads/{r.json()['uploads'][0]['id']}.json")


def statuses(client: TestClient) -> dict[str, str]:
    return {u["name"]: u["status"] for u in client.get("/units.json?year=2020").json()["units"]}


@pytest.fixture(scope="module")
def returns(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("returns")
    return {
        "甲错误": make_return(d / "甲.xlsx", "甲单位", "001"),  # P3 self 3: one 错误
        "乙警告": make_return(d / "乙.xlsx", "乙单位", "002", p3=2),  # no 扣分原因: one 警告
        "乙干净": make_return(d / "乙_改.xlsx", "乙单位", "002", p3=2, note="有结余，未超过上年结转"),
        "丙干净": make_return(d / "丙.xlsx", "丙单位", "003", p3=2, note="有结余"),
        "甲干净": make_return(d / "甲_改.xlsx", "甲单位", "001", p3=2, note="有结余"),
    }


# ------------------------------------------------------------------ authentication


def test_pages_need_sign_in_and_json_and_api_need_a_token(tmp_path: Path) -> None:
    with web(tmp_path) as client:
        r = client.get("/units?year=2020", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/login?next=%2Funits%3Fyear%3D2020"
        assert client.get("/units.json").status_code == 401
        for url in ("/api/units?year=2020", "/api/check"):
            method = client.post if url == "/api/check" else client.get
            assert method(url).status_code == 401
            assert method(url, headers={"Authorization": "Bearer wrong"}).status_code == 401
            assert method(url, headers={"Authorization": f"Basic {TOKEN}"}).status_code == 401
        r = client.get("/api/units?year=2020", headers=BEARER)
        assert r.status_code == 200 and r.json() == {
            "year": 2020,
            "counts": dict.fromkeys(["未报送", "有错误", "待说明", "已通过"], 0),
            "units": [],
        }


def test_sign_in_sets_a_strict_httponly_session_and_refuses_a_wrong_password(tmp_path: Path) -> None:
    with web(tmp_path) as client:
        token = csrf_of(client.get("/login").text)
        r = client.post("/login", data={"password": "wrong", "csrf": token}, follow_redirects=False)
        assert r.status_code == 401 and "密码不正确" in r.text
        r = client.post(
            "/login",
            data={"password": PASSWORD, "csrf": token, "next": "//evil.example/"},
            follow_redirects=False,
        )
        assert r.status_code == 303 and r.headers["location"] == "/"  # never off the site
        cookie = r.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        assert client.get("/tasks").status_code == 200
        csrf = csrf_of(client.get("/tasks").text)
        assert client.post("/logout", data={"csrf": csrf}, follow_redirects=False).status_code == 303
        assert client.get("/tasks", follow_redirects=False).status_code == 303


def test_every_form_needs_its_csrf_token(tmp_path: Path, returns: dict[str, Path]) -> None:
    with web(tmp_path) as client:
        assert client.post("/login", data={"password": PASSWORD}).status_code == 403
        csrf = sign_in(client)
        roster = {"roster": ("名册.csv", ROSTER.encode())}
        for sent in ({}, {"csrf": "forged"}):
            r = client.post("/tasks", data={"year": "2020", "edition": "hunan-2020", **sent}, files=roster)
            assert r.status_code == 403 and "CSRF" in r.text
        make_task(client, csrf)
        link = links(client)["甲单位"]
        upload = {"file": ("甲.xlsx", returns["甲错误"].read_bytes())}
        assert client.post("/intake?year=2020", files=upload).status_code == 403
        assert client.post(f"{link}/upload", files=upload).status_code == 403
        # A unit page's token is its own: the bureau's session token does not open it, nor another unit's.
        other = csrf_of(client.get(links(client)["乙单位"]).text)
        for token in (csrf, other):
            assert client.post(f"{link}/upload", data={"csrf": token}, files=upload).status_code == 403
        assert client.post("/tasks/2020/units/1/revoke", data={}).status_code == 403
        assert client.post("/summary/2020", data={}).status_code == 403
        assert client.post("/units/1/approve", data={}).status_code == 403
        assert client.post("/logout", data={}).status_code == 403


def test_security_headers_on_every_page(tmp_path: Path) -> None:
    with web(tmp_path) as client:
        r = client.get("/login")
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
        assert r.headers["x-frame-options"] == "DENY" and r.headers["referrer-policy"] == "no-referrer"
        assert r.headers["x-content-type-options"] == "nosniff" and r.headers["cache-control"] == "no-store"
        assert client.get("/static/perfxl.css").status_code == 200


# ------------------------------------------------------------------ the API


def test_api_check_returns_exactly_the_cli_json(tmp_path: Path, returns: dict[str, Path]) -> None:
    source = returns["甲错误"]
    cli_run = CliRunner().invoke(cli, ["check", "--no-review", "--json", "-", str(source)])
    expected = json.loads(cli_run.stdout)
    with web(tmp_path) as client:
        r = client.post("/api/check", files={"file": ("甲.xlsx", source.read_bytes())}, headers=BEARER)
    assert r.status_code == 200
    got = r.json()
    assert got == {
        **expected,
        "file": "甲.xlsx",
    }  # the file as the API was given it, as the CLI names its path
    assert got["counts"] == {"错误": 1, "警告": 0, "提示": 6} and got["findings"][0]["rule"] == "score.P3"


def test_api_returns_stores_checks_and_the_unit_table_follows(
    tmp_path: Path, returns: dict[str, Path]
) -> None:
    with web(tmp_path) as client:
        csrf = sign_in(client)
        make_task(client, csrf)
        client.cookies.clear()  # from here on a script: the token only
        r = client.post(
            "/api/returns?year=2020",
            files={"file": ("甲.xlsx", returns["甲错误"].read_bytes())},
            headers=BEARER,
        )
        assert r.status_code == 200
        assert r.json()["check"]["status"] == "errors" and r.json()["upload"]["state"] == "done"
        table = client.get("/api/units?year=2020", headers=BEARER).json()
        assert [(u["name"], u["status"], u["round"]) for u in table["units"]] == [
            ("甲单位", "有错误", 1),
            ("乙单位", "未报送", None),
            ("丙单位", "未报送", None),
        ]
        assert table["units"][0]["recomputed_total"] == "97" and table["units"][0]["errors"] == 1
        assert client.get("/units.json?year=2020", headers=BEARER).json()["units"] == table["units"]


# ------------------------------------------------------------------ tasks, links, statuses


def test_roster_in_gbk_csv_or_xlsx_and_links_kept_on_reimport(tmp_path: Path) -> None:
    with web(tmp_path) as client:
        csrf = sign_in(client)
        make_task(client, csrf, ROSTER.encode("gbk"))  # type: ignore[arg-type]
        first = links(client)
        assert list(first) == ["甲单位", "乙单位", "丙单位"]
        wb = Workbook()
        ws = wb.active
        assert ws is not None
        for row in (
            ["单位名称", "预算编码"],
            ["乙单位", "002"],
            ["丁单位", 4],
            [None, None],
            ["甲单位", "001"],
        ):
            ws.append(row)
        buf = io.BytesIO()
        wb.save(buf)
        make_task(client, csrf, buf.getvalue(), "名册.xlsx")  # type: ignore[arg-type]
        second = links(client)
        assert list(second) == ["乙单位", "丁单位", "甲单位"]
        assert second["甲单位"] == first["甲单位"] and second["乙单位"] == first["乙单位"]
        assert client.get(first["丙单位"]).status_code == 404  # off the roster: its link is dead
        export = client.get("/tasks/2020/links.csv")
        assert export.text.startswith("\ufeff预算编码,单位名称,报送链接")
        assert "丁单位" in export.text and "/u/" in export.text
        bad = client.post(
            "/tasks",
            data={"year": "2020", "edition": "hunan-2020", "csrf": csrf},
            files={"roster": ("x.csv", b"a,b\n1,2\n")},
        )
        assert "缺少“单位名称”" in bad.text


def test_links_can_be_revoked_and_reissued(tmp_path: Path) -> None:
    with web(tmp_path) as client:
        csrf = sign_in(client)
        make_task(client, csrf)
        old = links(client)["甲单位"]
        assert client.get(old).status_code == 200
        client.post("/tasks/2020/units/1/reissue", data={"csrf": csrf})
        new = links(client)["甲单位"]
        assert new != old and client.get(old).status_code == 404 and client.get(new).status_code == 200
        client.post("/tasks/2020/units/1/revoke", data={"csrf": csrf})
        assert "甲单位" not in links(client) and client.get(new).status_code == 404
        assert client.get("/u/../../etc/passwd").status_code == 404


def test_statuses_follow_uploads_and_the_bureau_mark(tmp_path: Path, returns: dict[str, Path]) -> None:
    with web(tmp_path) as client:
        csrf = sign_in(client)
        make_task(client, csrf)
        assert set(statuses(client).values()) == {"未报送"}
        assert bureau_upload(client, csrf, returns["甲错误"])["status"] == "errors"
        bureau_upload(client, csrf, returns["乙警告"])
        bureau_upload(client, csrf, returns["丙干净"])
        assert statuses(client) == {"甲单位": "有错误", "乙单位": "待说明", "丙单位": "已通过"}
        # 错误 cannot be waved through; a 警告 the bureau accepts can.
        client.post("/units/1/approve", data={"csrf": csrf, "sha256": "x"})
        unit = client.get("/units/1.json").json()["unit"]
        r = client.post(
            "/units/1/approve", data={"csrf": csrf, "sha256": unit["sha256"]}, follow_redirects=True
        )
        assert "不能标记为已通过" in r.text and statuses(client)["甲单位"] == "有错误"
        sha = client.get("/units/2.json").json()["unit"]["sha256"]
        client.post("/units/2/approve", data={"csrf": csrf, "sha256": sha})
        assert statuses(client)["乙单位"] == "已通过"
        # A new upload needs a new look; a corrected one passes on its own.
        bureau_upload(client, csrf, returns["乙警告"], "乙_再报.xlsx")  # same bytes: the same return
        assert statuses(client)["乙单位"] == "已通过"
        time.sleep(1.05 - time.time() % 1)  # a correction comes in a later second (see the history test)
        bureau_upload(client, csrf, returns["甲干净"])
        assert statuses(client)["甲单位"] == "已通过"
        table = client.get("/units.json?year=2020&sort=round&desc=1").json()["units"]
        # 乙 sent the same bytes twice: one return, one round; 甲's correction is its round 2.
        assert [(u["name"], u["round"], u["uploads"]) for u in table] == [
            ("甲单位", 2, 2),
            ("乙单位", 1, 2),
            ("丙单位", 1, 1),
        ]
        assert [u["name"] for u in client.get("/units.json?year=2020&q=丙").json()["units"]] == ["丙单位"]
        page = client.get("/units?year=2020&sort=total&desc=1")
        assert page.status_code == 200 and "单位一览" in page.text


# ------------------------------------------------------------------ fix or explain


def test_a_unit_explains_a_warning_and_the_next_round_keeps_it(
    tmp_path: Path, returns: dict[str, Path]
) -> None:
    with web(tmp_path) as client:
        csrf = sign_in(client)
        make_task(client, csrf)
        link = links(client)["乙单位"]
        client.cookies.clear()
        sent = unit_upload(client, link, returns["乙警告"])
        assert sent["round"] == 1 and sent["check"]["counts"]["警告"] == 1
        page = client.get(link)
        assert "保存说明" in page.text and client.get(link + ".json").json()["unit"]["status"] == "待说明"
        warning = next(f for f in sent["check"]["findings"] if f["severity"] == "警告")
        form = {"csrf": csrf_of(page.text), "upload": str(sent["id"]), "rule": warning["rule"]}
        form |= {
            "sheet": warning["sheet"],
            "cell": warning["cell"],
            "text": "资金结余系年底拨入的专项，已说明",
        }
        assert client.post(f"{link}/explain", data={**form, "csrf": "forged"}).status_code == 403
        r = client.post(f"{link}/explain", data=form, follow_redirects=False)
        assert r.status_code == 303 and "msg=explained" in r.headers["location"]
        unit = client.get(link + ".json").json()
        assert unit["unit"]["status"] == "已通过" and unit["unit"]["explained"] == 1
        explained = next(f for f in unit["current"]["check"]["findings"] if f["rule"] == warning["rule"])
        assert explained["explained"] is True and explained["explanation"].startswith("资金结余")
        assert unit["current"]["check"]["counts"]["警告"] == 0
        # The next round, same value: the store carries the explanation over.
        again = make_return(
            tmp_path / "乙_第二次.xlsx", "乙单位", "002", p3=2, more={"unit.phone": "0730-1234567"}
        )
        second = unit_upload(client, link, again)
        assert second["round"] == 2 and second["check"]["counts"]["警告"] == 0 and second["explained"] == 1
        carried = next(f for f in second["check"]["findings"] if f["rule"] == warning["rule"])
        assert carried["explanation"] == "资金结余系年底拨入的专项，已说明"
        # Another unit's link cannot explain this unit's findings.
        sign_in(client)
        other = links(client)["丙单位"]
        client.cookies.clear()
        other_form = {**form, "csrf": csrf_of(client.get(other).text), "upload": str(second["id"])}
        assert client.post(f"{other}/explain", data=other_form).status_code == 404


# ------------------------------------------------------------------ isolation of units


def test_a_unit_link_reaches_only_its_own_unit(tmp_path: Path, returns: dict[str, Path]) -> None:
    with web(tmp_path) as client:
        csrf = sign_in(client)
        make_task(client, csrf)
        by_name = links(client)
        client.cookies.clear()  # units have no session
        mine = unit_upload(client, by_name["甲单位"], returns["甲错误"])
        assert mine["status"] == "errors" and mine["note"] is None
        assert client.get(f"{by_name['甲单位']}/uploads/{mine['id']}/review").status_code == 200
        other = by_name["乙单位"]
        for url in (f"/uploads/{mine['id']}", f"/uploads/{mine['id']}/review", f"/uploads/{mine['id']}/file"):
            assert client.get(other + url).status_code == 404
        assert "甲单位" not in client.get(other).text and "甲.xlsx" not in client.get(other).text
        assert (
            client.get(f"/uploads/{mine['id']}/file", follow_redirects=False).status_code == 303
        )  # bureau only
        # 乙's link cannot file a return as 丙's: it is recorded with a note, and goes nowhere.
        sent = unit_upload(client, other, returns["丙干净"])
        assert "不是本单位" in sent["note"] and "丙单位" in sent["note"]
        assert client.get(other + ".json").json()["unit"]["status"] == "有错误"
        client.cookies.clear()
        sign_in(client)
        assert statuses(client) == {"甲单位": "有错误", "乙单位": "有错误", "丙单位": "未报送"}
        with open_store(tmp_path / "data" / "perfxl.sqlite") as store:
            assert [r["unit"] for r in store.returns()] == ["甲单位"]


# ------------------------------------------------------------------ limits and hostile files


def test_uploads_past_the_size_limit_get_413(tmp_path: Path, returns: dict[str, Path]) -> None:
    with web(tmp_path, max_upload_bytes=20_000) as client:
        csrf = sign_in(client)
        make_task(client, csrf)
        big = {"file": ("big.xlsx", b"x" * 200_000)}
        for url, data, headers in (
            ("/intake?year=2020", {"csrf": csrf}, {}),
            (links(client)["甲单位"] + "/upload", {}, {}),
            ("/api/check", {}, BEARER),
        ):
            r = client.post(url, data=data, files=big, headers=headers)
            assert r.status_code == 413 and "max_upload_bytes" in r.json()["error"], url
        # Just over the limit, within the form's slack: refused while the file is kept, not after.
        r = client.post("/api/check", files={"file": ("a.xlsx", b"y" * 20_001)}, headers=BEARER)
        assert r.status_code == 413
        assert [p.name for p in (tmp_path / "data" / "files").rglob("*.*") if p.suffix != ".csv"] == []
        r = client.post(
            "/api/check", content=iter([b"chunked"]), headers={**BEARER, "Content-Type": "text/plain"}
        )
        assert r.status_code == 411


def test_a_hostile_file_among_good_ones_costs_only_itself(tmp_path: Path, returns: dict[str, Path]) -> None:
    zip_bomb = io.BytesIO()
    with zipfile.ZipFile(zip_bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", b"<Types/>")
        z.writestr("xl/workbook.xml", b"<" * (30 * 1024 * 1024))
    hostile = {
        "../../etc/passwd.xlsx": b"\x00not a workbook",
        "炸弹.xlsx": zip_bomb.getvalue(),
        "截断.xlsx": returns["丙干净"].read_bytes()[:3000],
    }
    with web(tmp_path) as client:
        csrf = sign_in(client)
        make_task(client, csrf)
        done = [bureau_upload(client, csrf, returns["甲错误"])]
        for name, data in hostile.items():
            path = tmp_path / "h.bin"
            path.write_bytes(data)
            done.append(bureau_upload(client, csrf, path, name))
        done.append(bureau_upload(client, csrf, returns["乙警告"]))
        assert [d["status"] for d in done] == ["errors", "unusable", "unusable", "unusable", "ok"]
        assert all(d["reason"] for d in done[1:4])
        assert done[1]["filename"] == "passwd.xlsx"  # a name to show, never a path
        kept = sorted(p.name for p in (tmp_path / "data" / "files").rglob("*.xlsx"))
        assert all(re.fullmatch(r"[0-9a-f]{64}\.xlsx", n) for n in kept) and len(kept) == 5
        assert statuses(client) == {"甲单位": "有错误", "乙单位": "待说明", "丙单位": "未报送"}


def test_a_job_that_overruns_or_dies_is_stopped_and_said() -> None:
    started = time.monotonic()
    with pytest.raises(jobs.JobFailed, match="超过 0.5 秒"):
        jobs.run_in_process(0.5, time.sleep, 30)
    assert time.monotonic() - started < 10
    with pytest.raises(jobs.JobFailed, match="意外退出"):
        jobs.run_in_process(30, _die)


def _die() -> None:
    import os

    os._exit(3)


def test_a_check_that_overruns_makes_the_file_unusable_not_the_server_stuck(
    tmp_path: Path, returns: dict[str, Path]
) -> None:
    with web(tmp_path, job_seconds=0.001) as client:
        r = client.post(
            "/api/check", files={"file": ("甲.xlsx", returns["甲错误"].read_bytes())}, headers=BEARER
        )
        assert r.json()["status"] == "unusable" and "已停止" in r.json()["reason"]
        assert client.get("/login").status_code == 200


# ------------------------------------------------------------------ templates, summary, history


def test_templates_for_one_unit_and_all_prefilled_from_last_year(
    tmp_path: Path, returns: dict[str, Path]
) -> None:
    with web(tmp_path) as client:
        csrf = sign_in(client)
        make_task(client, csrf, year=2019, roster="预算编码,单位名称\n001,甲单位\n")
        r = client.post(
            "/api/returns?year=2019",
            files={
                "file": ("甲.xlsx", make_return(tmp_path / "j19.xlsx", "甲单位", "001", 2019).read_bytes())
            },
            headers=BEARER,
        )
        assert r.json()["upload"]["note"] is None
        make_task(client, csrf)
        first = client.get("/templates.json?year=2020").json()["units"][0]
        assert first["name"] == "甲单位"
        one = client.get(f"/templates/2020/{first['id']}.xlsx")
        assert one.status_code == 200 and one.content[:2] == b"PK"
        assert "001_%E7%94%B2%E5%8D%95%E4%BD%8D.xlsx" in one.headers["content-disposition"]
        path = tmp_path / "t.xlsx"
        path.write_bytes(one.content)
        from openpyxl import load_workbook

        wb = load_workbook(path)
        names = {n: d for n, d in wb.defined_names.items()}
        sheet, cell = next(iter(names["px_basis_sangong_prev"].destinations))
        assert wb[sheet][cell.replace("$", "")].value == pytest.approx(4.79)  # last year's 三公经费
        pack = client.get("/templates/2020/all.zip")
        assert pack.status_code == 200
        assert sorted(zipfile.ZipFile(io.BytesIO(pack.content)).namelist()) == [
            "001_甲单位.xlsx",
            "002_乙单位.xlsx",
            "003_丙单位.xlsx",
        ]
        link = links(client)["乙单位"]
        client.cookies.clear()
        assert client.get(f"{link}/template.xlsx").content[:2] == b"PK"


def test_summary_is_the_consolidation_of_the_current_returns(
    tmp_path: Path, returns: dict[str, Path]
) -> None:
    with web(tmp_path) as client:
        csrf = sign_in(client)
        make_task(client, csrf)
        bureau_upload(client, csrf, returns["甲错误"])
        bureau_upload(client, csrf, returns["乙警告"])
        assert client.get("/summary/2020.xlsx").status_code == 404
        client.post("/summary/2020", data={"csrf": csrf})
        for _ in range(300):
            state = client.get("/summary.json?year=2020").json()
            if state["ready"] or state["error"]:
                break
            time.sleep(0.1)
        assert state["ready"], state
        assert [(m["code"], m["unit"]) for m in state["missing"]] == [("003", "丙单位")]
        assert state["charts"]["grades"][0] == ["优秀", 2]
        assert {"score.P3", "score.P3.reason"} <= {r["rule"] for r in state["rules"]}
        page = client.get("/summary?year=2020")
        assert page.text.count("<svg") == 4 and "规则统计" in page.text
        book = client.get("/summary/2020.xlsx")
        assert book.status_code == 200 and book.content[:2] == b"PK"
        from openpyxl import load_workbook

        path = tmp_path / "s.xlsx"
        path.write_bytes(book.content)
        cells = {
            v for row in load_workbook(path, read_only=True)["汇总"].iter_rows(values_only=True) for v in row
        }
        assert {"甲.xlsx", "乙.xlsx"} <= cells  # the names the files were sent as
        bureau_upload(client, csrf, returns["丙干净"])
        assert client.get("/summary.json?year=2020").json()["ready"] is False  # a new return: make it anew


def test_history_lists_a_unit_across_years_and_every_page_has_json(
    tmp_path: Path, returns: dict[str, Path]
) -> None:
    with web(tmp_path) as client:
        csrf = sign_in(client)
        make_task(client, csrf)
        bureau_upload(client, csrf, returns["甲错误"])
        # Versions are ordered by upload time to the whole second (batch/current.py): a person's
        # correction never comes within the same second, so the test does not either.
        time.sleep(1.05 - time.time() % 1)
        bureau_upload(client, csrf, returns["甲干净"])
        data = client.get("/history.json?code=001").json()
        assert [
            (r["year"], r["round"], r["status"], r["is_current"], r["fixed"]) for r in data["rounds"]
        ] == [
            (2020, 1, "errors", False, 0),
            (2020, 2, "ok", True, 1),
        ]
        assert data["rounds"][0]["file"] == "甲.xlsx"  # the name it was sent as, not where it is kept
        assert data["units"][0]["name"] == "甲单位"
        for page in (
            "/tasks",
            "/tasks/2020",
            "/templates",
            "/intake",
            "/units",
            "/units/1",
            "/uploads/1",
            "/summary",
            "/history",
        ):
            assert client.get(page + ".json?year=2020").headers["content-type"] == "application/json", page
            html = client.get(page + "?year=2020")
            assert html.status_code == 200 and "<!doctype html>" in html.text, page


# ------------------------------------------------------------------ PostgreSQL


def test_the_same_app_on_postgresql(tmp_path: Path, returns: dict[str, Path], postgres_url: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:  # a database of its own on the session's server
        conn.execute(sa.text("CREATE DATABASE perfxl_web"))
    engine.dispose()
    url = postgres_url.rsplit("/", 1)[0] + "/perfxl_web"
    with web(tmp_path, db=url) as client:
        csrf = sign_in(client)
        make_task(client, csrf)
        bureau_upload(client, csrf, returns["甲错误"])
        bureau_upload(client, csrf, returns["乙警告"])
        unit_upload(client, links(client)["丙单位"], returns["丙干净"])
        assert statuses(client) == {"甲单位": "有错误", "乙单位": "待说明", "丙单位": "已通过"}
    assert not (tmp_path / "data" / "perfxl.sqlite").exists()
    with open_store(url) as store:
        assert sorted(r["unit"] for r in store.current_returns(2020)) == ["丙单位", "乙单位", "甲单位"]


def test_settings_are_frozen_and_name_their_limits() -> None:
    s = Settings(data_dir=Path("."), password="p", token="t", secret="x")
    assert s.max_upload_bytes == 30 * 1024 * 1024
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.password = "q"  # type: ignore[misc]


def test_secrets_come_from_the_environment_or_are_made_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from perfxl.web.settings import load_secrets

    monkeypatch.delenv("PERFXL_PASSWORD", raising=False)
    monkeypatch.delenv("PERFXL_TOKEN", raising=False)
    made, cookie = load_secrets(tmp_path)
    assert made.generated == ("password", "token") and len(made.password) >= 16 and len(made.token) >= 32
    assert (tmp_path / "secret.key").stat().st_mode & 0o077 == 0  # this account only
    again, cookie_again = load_secrets(tmp_path)
    assert again.password != made.password and cookie_again == cookie  # sessions survive a restart
    monkeypatch.setenv("PERFXL_PASSWORD", "局里的密码")
    monkeypatch.setenv("PERFXL_TOKEN", "脚本令牌")
    given, _ = load_secrets(tmp_path)
    assert (given.password, given.token, given.generated) == ("局里的密码", "脚本令牌", ())
