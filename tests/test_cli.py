"""The command line as a user runs it: exit codes, messages, files written (and never overwritten)."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from perfxl.cli import cli

SAMPLES = Path(__file__).resolve().parent.parent / "sample_workbooks"
SEED = SAMPLES / "君山区信访局_2020.xlsx"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_every_command_is_documented_with_an_example(name: str) -> None:
    doc = cli.commands[name].help or ""
    assert doc.strip() and "示例：" in doc and f"perfxl {name}" in doc, name


def test_template_then_check_round_trip(tmp_path: Path) -> None:
    out = tmp_path / "信访局.xlsx"
    code, _, err = run("template", "-o", str(out), "--unit", "岳阳市君山区信访局", "--year", "2020")
    assert code == 0 and out.exists() and "已生成" in err
    code, _, err = run("template", "-o", str(out))
    assert code == 2 and "已存在" in err and "--force" in err


def test_template_prefill_errors_name_the_file_and_field(tmp_path: Path) -> None:
    values = tmp_path / "v.yaml"
    values.write_text("values:\n  income.org.carryover: 约二百万\n", encoding="utf-8")
    code, _, err = run("template", "-o", str(tmp_path / "x.xlsx"), "--values", str(values))
    assert code == 2 and "income.org.carryover" in err and "约二百万" in err
    assert not (tmp_path / "x.xlsx").exists()
    values.write_text("values:\n  no.such: 1\n", encoding="utf-8")
    code, _, err = run("template", "-o", str(tmp_path / "x.xlsx"), "--values", str(values))
    assert code == 2 and "no.such" in err


def test_template_values_in_yuan_are_converted_and_said(tmp_path: Path) -> None:
    """“2563200元” in --values is 256.32 万元: written so, and the user is told (not 2563200 silently)."""
    values = tmp_path / "v.yaml"
    values.write_text("values:\n  income.org.fiscal: 2563200元\n", encoding="utf-8")
    out = tmp_path / "x.xlsx"
    code, _, err = run("template", "-o", str(out), "--values", str(values))
    assert code == 0, err
    assert "income.org.fiscal" in err and "256.32 万元" in err and "÷10000" in err
    code, json_out, _ = run("check", "--no-review", "--json", "-", str(out))
    doc = json.loads(json_out)
    fiscal = [f for f in doc["findings"] if f["cell"] == "D7"]
    assert fiscal == []  # the workbook holds the number 256.32: nothing to say about D7


def test_roster_batch_with_gbk_csv_and_per_unit_rows(tmp_path: Path) -> None:
    roster = tmp_path / "名册.csv"
    roster.write_bytes(
        "预算编码,单位名称,二级机构数,income.org.fiscal\n001,信访局,1,256.32\n002,财政局,3,\n".encode("gbk")
    )
    code, _, err = run(
        "template", "--roster", str(roster), "--out-dir", str(tmp_path / "out"), "--year", "2021"
    )
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["001_信访局.xlsx", "002_财政局.xlsx"]
    code, out, _ = run("check", "--no-review", "--json", "-", str(tmp_path / "out" / "001_信访局.xlsx"))
    doc = json.loads(out)
    assert doc["unit"] == "信访局" and doc["year"] == 2021 and doc["code"] == "001"


def test_roster_kept_in_excel_is_read(tmp_path: Path) -> None:
    """Finance staff keep rosters in Excel: an .xlsx roster (codes typed as numbers) works like a CSV."""
    import openpyxl

    roster = tmp_path / "名册.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["预算编码", "单位名称", "年度", "二级机构数"])
    ws.append([430611, "信访局", 2021, 1])
    ws.append([None, None, None, None])  # a formatted empty row Excel keeps
    ws.append(["430612", "财政局", 2021, None])
    wb.save(roster)
    code, _, err = run("template", "--roster", str(roster), "--out-dir", str(tmp_path / "out"))
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "430611_信访局.xlsx",
        "430612_财政局.xlsx",
    ]
    code, out, _ = run("check", "--no-review", "--json", "-", str(tmp_path / "out" / "430611_信访局.xlsx"))
    assert json.loads(out)["code"] == "430611" and json.loads(out)["year"] == 2021


def test_roster_listing_a_unit_twice_says_which_rows(tmp_path: Path) -> None:
    roster = tmp_path / "名册.csv"
    roster.write_text("预算编码,单位名称\n001,信访局\n002,财政局\n001,信访局\n", encoding="utf-8")
    code, _, err = run("template", "--roster", str(roster), "--out-dir", str(tmp_path / "out"))
    assert code == 2 and "第 4 行与第 2 行是同一个单位" in err and "--force" not in err
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())  # nothing written


def test_roster_options_say_what_is_missing(tmp_path: Path) -> None:
    roster = tmp_path / "名册.csv"
    roster.write_text("单位名称\n信访局\n", encoding="utf-8")
    code, _, err = run("template", "--roster", str(roster))
    assert code == 2 and "--out-dir" in err and "-o" not in err.replace("--out-dir", "")
    code, _, err = run("template", "--roster", str(roster), "-o", str(tmp_path / "a.xlsx"))
    assert code == 2 and "不要用 -o" in err


@pytest.mark.parametrize("name", ["模板.xls", "模板", "模板.xlsx.bak"])
def test_output_must_be_xlsx(name: str, tmp_path: Path) -> None:
    """perfxl writes .xlsx content: a .xls (or no) extension is refused, not written under a wrong name."""
    for args in (["template", "-o"], ["check", str(SEED), "-o"], ["consolidate", str(SEED), "-o"]):
        code, _, err = run(*args, str(tmp_path / name))
        assert code == 2 and ".xlsx" in err, (args, err)
    assert list(tmp_path.iterdir()) == []


def test_values_csv_with_the_readme_heading(tmp_path: Path) -> None:
    values = tmp_path / "预填.csv"
    values.write_text("字段 id,值\nincome.org.carryover,3.67\n", encoding="utf-8")
    code, _, err = run("template", "-o", str(tmp_path / "x.xlsx"), "--values", str(values))
    assert code == 0, err


def test_check_says_where_the_review_copy_is(tmp_path: Path) -> None:
    shutil.copy(SEED, tmp_path / "信访局.xlsx")
    code, _, err = run("check", str(tmp_path / "信访局.xlsx"))
    assert code == 1 and f"审核副本：{tmp_path / '信访局_审核.xlsx'}" in err


def test_bad_roster_column_is_a_usage_error(tmp_path: Path) -> None:
    roster = tmp_path / "r.csv"
    roster.write_text("单位名称,颜色\n信访局,红\n", encoding="utf-8")
    code, _, err = run("template", "--roster", str(roster), "--out-dir", str(tmp_path))
    assert code == 2 and "颜色" in err


def test_fields_json_is_the_documented_contract() -> None:
    code, out, _ = run("fields", "--json")
    doc = json.loads(out)
    assert code == 0
    assert set(doc) == {
        "edition",
        "form_version",
        "rubric_version",
        "fingerprint",
        "options",
        "fields",
        "formulas",
    }
    assert {"id", "name", "sheet", "cell", "type", "unit", "required", "label", "feeds"} == set(
        doc["fields"][0]
    )
    code, out, _ = run("fields", "--sub-units", "3")
    assert "income.sub3.fiscal" in out


def test_check_seed_exit_1_review_beside_input_and_input_untouched(tmp_path: Path) -> None:
    seed = tmp_path / "君山区信访局_2020.xlsx"
    shutil.copy(SEED, seed)
    before = hashlib.sha256(seed.read_bytes()).hexdigest()
    code, out, err = run("check", str(seed), "--json", "-")
    assert code == 1
    assert "自评 98 分 / 复核 97 分" in err and "错误 1" in err
    doc = json.loads(out)
    assert doc["sha256"] == before and doc["status"] == "errors"
    assert (tmp_path / "君山区信访局_2020_审核.xlsx").exists()
    assert hashlib.sha256(seed.read_bytes()).hexdigest() == before
    code, _, err = run("check", str(seed))
    assert code == 2 and "已存在" in err  # never overwrites an earlier review without --force
    code, _, _ = run("check", "--force", str(seed))
    assert code == 1


def test_check_several_files_worst_exit_code_wins(tmp_path: Path) -> None:
    bad = tmp_path / "不是表格.xlsx"
    bad.write_text("hello", encoding="utf-8")
    blank = tmp_path / "blank.xlsx"
    shutil.copy(SAMPLES / "空白模板_hunan-2020.xlsx", blank)
    code, out, err = run("check", "--no-review", "--json", "-", str(bad), str(blank))
    assert code == 2
    docs = json.loads(out)
    assert [d["status"] for d in docs] == ["unusable", "errors"]
    assert "不是有效的 xlsx 文件" in docs[0]["reason"] and "不是表格.xlsx" in err
    assert "Traceback" not in err


def test_check_json_to_file_and_tolerance_option(tmp_path: Path) -> None:
    report = tmp_path / "r" / "审核.json"
    code, _, _ = run("check", "--no-review", "--json", str(report), "--tolerance", "0.5", str(SEED))
    assert code == 1 and json.loads(report.read_text(encoding="utf-8"))["recomputed_total"] == 97
    code, _, err = run("check", "--tolerance", "abc", str(SEED))
    assert code == 2 and "--tolerance" in err


def test_editions_lists_the_shipped_edition() -> None:
    code, out, _ = run("editions")
    assert code == 0 and "hunan-2020" in out


def test_consolidate_into_a_store_then_prefill_next_year_from_it(tmp_path: Path) -> None:
    returns = tmp_path / "2020"
    returns.mkdir()
    shutil.copy(SEED, returns / "信访局.xlsx")
    db = tmp_path / "perfxl.sqlite"
    code, _, err = run(
        "consolidate", str(returns), "-o", str(tmp_path / "汇总.xlsx"), "--db", str(db), "--workers", "1"
    )
    assert code == 1 and (tmp_path / "汇总.xlsx").exists()  # the seed has one 错误 (P3)
    assert "新增 1 份" in err
    roster = tmp_path / "名册.csv"
    roster.write_text("预算编码,单位名称\n430611-XFJ,岳阳市君山区信访局\n", encoding="utf-8")
    out = tmp_path / "2021"
    code, _, err = run(
        "template", "--roster", str(roster), "--out-dir", str(out), "--year", "2021", "--from-db", str(db)
    )
    assert code == 0 and "1 个按上年报表预填" in err
    code, doc, _ = run("check", "--no-review", "--json", "-", str(out / "430611-XFJ_岳阳市君山区信访局.xlsx"))
    assert json.loads(doc)["year"] == 2021
    from perfxl.check import check_file

    facts = check_file(out / "430611-XFJ_岳阳市君山区信访局.xlsx").facts
    assert str(facts["basis.sangong_prev"]) in ("4.79", "4.790")  # 2020's 三公经费合计


def test_template_from_db_that_does_not_exist_is_a_usage_error(tmp_path: Path) -> None:
    code, _, err = run(
        "template",
        "-o",
        str(tmp_path / "x.xlsx"),
        "--year",
        "2021",
        "--from-db",
        str(tmp_path / "none.sqlite"),
    )
    assert code == 2 and "不存在" in err


def test_db_url_password_is_never_printed(tmp_path: Path, postgres_url: str) -> None:
    """--db on a real PostgreSQL server with a password in the URL (the test server trusts anyone):
    stored, and the line saying so masks the password."""
    import sqlalchemy as sa

    returns = tmp_path / "2020"
    returns.mkdir()
    shutil.copy(SEED, returns / "信访局.xlsx")
    url = sa.engine.make_url(postgres_url).set(password="s3cret-口令").render_as_string(hide_password=False)
    code, out, err = run("consolidate", str(returns), "-o", str(tmp_path / "汇总.xlsx"), "--db", url)
    assert code == 1, err  # the seed's one 错误
    assert "新增 1 份" in err or "已存在" in err
    assert "s3cret" not in out + err and ":***@" in err


def test_db_url_whose_driver_is_missing_says_which_extra(tmp_path: Path) -> None:
    returns = tmp_path / "2020"
    returns.mkdir()
    shutil.copy(SEED, returns / "信访局.xlsx")
    url = "postgresql+pg8000://绩效股:s3cret@127.0.0.1:5/perfxl"
    code, out, err = run("consolidate", str(returns), "-o", str(tmp_path / "汇总.xlsx"), "--db", url)
    assert code == 2 and "Traceback" not in err
    assert "pg8000" in err and 'pip install "perfxl[postgres]"' in err
    assert "s3cret" not in out + err


def test_db_that_cannot_be_reached_says_so_without_the_password(tmp_path: Path) -> None:
    returns = tmp_path / "2020"
    returns.mkdir()
    shutil.copy(SEED, returns / "信访局.xlsx")
    url = "postgresql+psycopg://postgres:s3cret@127.0.0.1:1/perfxl"  # nothing listens on port 1
    code, out, err = run("consolidate", str(returns), "-o", str(tmp_path / "汇总.xlsx"), "--db", url)
    assert code == 2 and "Traceback" not in err
    # the database is opened first (each return is stored as a round before the summary is written)
    assert "无法打开数据库 postgresql+psycopg://postgres:***@127.0.0.1:1/perfxl" in err
    assert "无法连接" in err and "s3cret" not in out + err
    assert not (tmp_path / "汇总.xlsx").exists()


def test_check_and_history_mask_the_password_of_a_db_that_cannot_be_reached(tmp_path: Path) -> None:
    """check --db and history open the store first: a refusal names it with the password masked."""
    shutil.copy(SEED, tmp_path / "信访局.xlsx")
    url = "postgresql+psycopg://postgres:s3cret@127.0.0.1:1/perfxl"
    for args in (
        ["check", str(tmp_path / "信访局.xlsx"), "--db", url],
        ["history", "--db", url, "--unit", "430611"],
    ):
        code, out, err = run(*args)
        assert code == 2 and "Traceback" not in err, (args, err)
        assert "无法打开数据库 postgresql+psycopg://postgres:***@127.0.0.1:1/perfxl" in err, (args, err)
        assert "s3cret" not in out + err
    assert not (tmp_path / "信访局_审核.xlsx").exists()
