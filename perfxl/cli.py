"""The ``perfxl`` command line: parse, call one library function, print, choose the exit code.

Exit codes: 0 done / no 错误; 1 findings with 错误; 2 unusable input or wrong usage.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from perfxl import __version__, api, cli_chinese
from perfxl.oserror import shown
from perfxl.report.words import STATUS_TEXT, local_time
from perfxl.spec import DEFAULT_EDITION

cli_chinese.install()  # before the commands are declared: click looks some texts up as they are

# api imports the heavy modules (xlsxwriter, openpyxl, pandas) only in the jobs that need them: `perfxl check`
# starts fast.


class UsageError(click.ClickException):
    exit_code = 2


class Formatter(click.HelpFormatter):
    """Help with Chinese punctuation: ``用法：perfxl check …``, ``选项：``."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, "用法：" if prefix is None else prefix)

    def write_heading(self, heading: str) -> None:
        self.write(f"{'':>{self.current_indent}}{heading}：\n")


class Context(click.Context):
    formatter_class = Formatter


class Command(click.Command):
    """A command whose usage line reads ``perfxl check [选项] 报表...``."""

    context_class = Context

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("options_metavar", "[选项]")
        super().__init__(*args, **kwargs)


class Group(click.Group):
    command_class = Command
    context_class = Context

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("options_metavar", "[选项]")
        kwargs.setdefault("subcommand_metavar", "命令 [参数]...")
        super().__init__(*args, **kwargs)


def xlsx_output(path: Path | None, what: str) -> None:
    """-o must name an .xlsx: the content is .xlsx whatever the name says, and Excel warns about a
    file whose name and format disagree (.xls), or does not know what to open it with (no suffix)."""
    if path is not None and path.suffix.lower() != ".xlsx":
        shown = f"“{path.suffix}”" if path.suffix else "没有扩展名"
        raise UsageError(
            f"{what}的文件名应以 .xlsx 结尾（现为{shown}），例如 {path.with_suffix('.xlsx').name}"
        )


def edition_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--edition",
        default=DEFAULT_EDITION,
        show_default=True,
        metavar="版本",
        help="表样与评分规则版本（见 perfxl editions）",
    )(f)


def layout_options(f: Callable[..., Any]) -> Callable[..., Any]:
    f = click.option(
        "--indicator",
        "indicators",
        multiple=True,
        metavar="类别=行数",
        help="定量目标某类指标的行数，如 quality=4（可重复）",
    )(f)
    f = click.option("--reviewers", type=int, metavar="行数", help="评价人员行数")(f)
    f = click.option("--qualitative", type=int, metavar="行数", help="定性目标行数")(f)
    f = click.option("--sub-units", type=int, metavar="行数", help="二级机构行数（默认 2）")(f)
    return f


def _options(
    sub_units: int | None, qualitative: int | None, reviewers: int | None, indicators: tuple[str, ...]
) -> dict[str, Any]:
    opts: dict[str, Any] = {"sub_units": sub_units, "qualitative": qualitative, "reviewers": reviewers}
    if indicators:
        cats = {}
        for text in indicators:
            cat, sep, n = text.partition("=")
            if not sep or not n.strip().isdigit():
                raise UsageError(f"--indicator 应写成 类别=行数，如 quality=4，实际为 “{text}”")
            cats[cat.strip()] = int(n)
        opts["indicators"] = cats
    return opts


class _Group(Group):
    """The command group: user-level problems end in one Chinese line (exit 2), never a traceback;
    ``--debug`` shows the traceback of anything unexpected."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        debug = "--debug" in (args[0] if args else sys.argv[1:])
        try:
            return super().main(*args, **kwargs)
        except click.exceptions.Exit as e:
            sys.exit(e.exit_code)
        except click.Abort:
            click.echo("已中止", err=True)
            sys.exit(130)
        except click.ClickException as e:  # click's own texts are Chinese (cli_chinese)
            e.show()
            sys.exit(2)
        except OSError as e:
            if debug:
                raise
            from perfxl.oserror import os_reason

            where = f"：{shown(str(e.filename))}" if e.filename else ""
            click.echo(f"错误：{os_reason(e)}{where}", err=True)
            sys.exit(2)
        except Exception as e:
            if debug:
                raise
            click.echo(
                f"错误：程序出错（{type(e).__name__}）；加 --debug 可查看详细信息，请反馈给软件维护人员",
                err=True,
            )
            sys.exit(2)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="perfxl")
@click.option("--debug", is_flag=True, help="出错时显示程序的详细出错信息（供维护人员排查）")
def cli(debug: bool) -> None:
    """perfxl：部门整体支出绩效自评——生成模板、审核报表、汇总全区。"""
    if debug:
        from perfxl.check import run

        run.DEBUG = True


def existing(path: Path | None, what: str, *, folder_ok: bool = False) -> Path | None:
    """``path`` if it can be read; else a usage error in Chinese (click's own check is English)."""
    if path is None:
        return None
    try:
        if not path.exists():
            raise UsageError(f"{what} {shown(str(path))} 不存在")
        if path.is_dir() and not folder_ok:
            raise UsageError(f"{what} {shown(str(path))} 是文件夹，不是文件")
        if not os.access(path, os.R_OK):
            raise UsageError(f"{what} {shown(str(path))} 没有读取权限")
    except OSError as e:
        from perfxl.oserror import os_reason

        raise UsageError(f"{what} {shown(str(path))}：{os_reason(e)}") from None
    return path


@cli.command()
def editions() -> None:
    """列出可用的表样与评分规则版本；数据文件有误的版本列出文件、键和原因（退出码 2）。

    示例：

    \b
      perfxl editions
    """
    broken = 0
    for ed in _run(api.editions):
        if ed.problem:
            broken += 1
            click.echo(f"{ed.name}\t无法使用：{ed.problem}", err=True)
            continue
        click.echo(
            f"{ed.name}\t{ed.region}\t{ed.title}（表样 v{ed.form_version}，评分规则 v{ed.rubric_version}）"
        )
    sys.exit(2 if broken else 0)


@cli.command()
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="文件.xlsx",
    help="输出的 .xlsx 文件",
)
@click.option(
    "--roster",
    type=click.Path(path_type=Path),
    metavar="名册",
    help="单位名册（Excel 的 .xlsx 或 CSV；批量生成，每个单位一个工作簿）",
)
@click.option(
    "--out-dir",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="文件夹",
    help="批量生成的输出文件夹",
)
@edition_option
@click.option("--unit", "unit_name", metavar="名称", help="单位名称（写入表头与页脚）")
@click.option("--code", metavar="编码", help="预算编码")
@click.option("--year", type=int, metavar="年度", help="年度，如 2020")
@click.option(
    "--values",
    "values_path",
    type=click.Path(path_type=Path),
    metavar="文件",
    help="预填数据（JSON/YAML/CSV，按字段 id），如部门决算数",
)
@click.option(
    "--from-db",
    "db",
    metavar="数据库",
    help="从汇总数据库按上年报表预填（如上年“三公”经费；字段见评分规则的 prior_year）",
)
@layout_options
@click.option("--force", is_flag=True, help="覆盖已存在的输出文件")
def template(
    output: Path | None,
    roster: Path | None,
    out_dir: Path | None,
    edition: str,
    unit_name: str | None,
    code: str | None,
    year: int | None,
    values_path: Path | None,
    db: str | None,
    sub_units: int | None,
    qualitative: int | None,
    reviewers: int | None,
    indicators: tuple[str, ...],
    force: bool,
) -> None:
    """生成空白（或预填）的自评工作簿。

    示例：

    \b
      perfxl template -o 信访局.xlsx --unit 君山区信访局 --year 2020
      perfxl template --roster 名册.xlsx --out-dir 模板/ --year 2021
      perfxl template --roster 名册.xlsx --out-dir 模板/ --from-db 库.sqlite
    """
    opts = _options(sub_units, qualitative, reviewers, indicators)
    xlsx_output(output, "-o ")
    existing(roster, "名册")
    existing(values_path, "预填数据文件")
    if roster is not None:
        if output is not None:
            raise UsageError("批量生成时每个单位写一个文件，请用 --out-dir 指定文件夹，不要用 -o")
        if out_dir is None:
            raise UsageError(
                "批量生成还需要用 --out-dir 指定输出文件夹，如 --roster 名册.xlsx --out-dir 模板/"
            )
        made = _run(
            api.write_templates,
            roster,
            out_dir,
            edition_name=edition,
            year=year,
            options=opts,
            prior_db=db,
            force=force,
        )
        for m in made:
            for note in m.notes:
                click.echo(f"{m.path.name}：{note}", err=True)
        prefilled = sum(m.prefilled_from_db for m in made)
        note = f"（其中 {prefilled} 个按上年报表预填）" if db is not None else ""
        click.echo(f"已生成 {len(made)} 个工作簿{note}：{out_dir}", err=True)
        return
    if output is None:
        raise UsageError("请用 -o 指定输出文件，或用 --roster 与 --out-dir 批量生成")
    done = _run(
        api.write_template,
        output,
        edition_name=edition,
        unit=api.Unit(unit_name or "", code or "", year),
        values_path=values_path,
        options=opts,
        prior_db=db,
        force=force,
    )
    for note in done.notes:
        click.echo(f"注意：{note}", err=True)
    if db is not None and not done.prefilled_from_db:
        unit = done.unit
        last = f"{unit.year - 1} " if unit.year else ""
        click.echo(
            f"数据库 {api.database_name(db)} 中没有 {unit.name or unit.code} {last}年度的报表，未按上年预填",
            err=True,
        )
    click.echo(f"已生成：{output}", err=True)


def _run(job: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call one api job; a problem the user must fix becomes a usage error (exit 2)."""
    try:
        return job(*args, **kwargs)
    except api.PerfxlError as e:
        raise UsageError(str(e)) from None


@cli.command()
@edition_option
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出（供脚本使用，键名稳定）")
@layout_options
def fields(
    edition: str,
    as_json: bool,
    sub_units: int | None,
    qualitative: int | None,
    reviewers: int | None,
    indicators: tuple[str, ...],
) -> None:
    """列出模板的全部填写项：字段 id、定义名称、工作表、单元格、类型、单位和标签。

    示例：

    \b
      perfxl fields
      perfxl fields --json > 字段.json
    """
    from perfxl.form.fields import text_table

    dictionary = _run(api.fields, edition, _options(sub_units, qualitative, reviewers, indicators))
    if as_json:
        json.dump(dictionary, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        click.echo(text_table(dictionary))


@cli.command()
@click.argument("files", nargs=-1, type=click.Path(path_type=Path), metavar="报表...")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="文件.xlsx",
    help="审核副本的文件名（只审一个文件时）",
)
@click.option(
    "--out-dir",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="文件夹",
    help="审核副本的输出文件夹（默认与原文件同一文件夹）",
)
@click.option("--json", "json_path", metavar="文件|-", help="机器可读的审核结果（- 表示输出到标准输出）")
@click.option(
    "--tolerance",
    type=str,
    default=None,
    metavar="万元",
    help="金额勾稽允许误差，默认取评分规则中的设置（0.01 万元）",
)
@click.option("--no-review", is_flag=True, help="不写审核副本，只输出结果")
@click.option("--force", is_flag=True, help="覆盖已存在的审核副本")
@click.option(
    "--db",
    metavar="数据库",
    help="登记到数据库（SQLite 文件或 SQLAlchemy 地址）：每次报送为一轮，沿用单位说明，列出已修正的问题",
)
def check(
    files: tuple[Path, ...],
    output: Path | None,
    out_dir: Path | None,
    json_path: str | None,
    tolerance: str | None,
    no_review: bool,
    force: bool,
    db: str | None,
) -> None:
    """审核报回的自评表：独立重算全部合计、勾稽关系和评分，写出带“审核意见”的副本。

    报回的审核副本（填了“单位说明”）也可直接审核：经说明的“警告”“提示”列为“已说明”。

    退出码：0 无错误；1 有“错误”级问题；2 有文件无法使用。原文件从不改动。

    示例：

    \b
      perfxl check 信访局.xlsx
      perfxl check 报表/*.xlsx --out-dir 审核/ --json 审核结果.json
      perfxl check 信访局_审核.xlsx --db 库.sqlite
    """
    from decimal import Decimal, InvalidOperation

    if not files:
        raise UsageError("请给出要审核的报表文件，如：perfxl check 信访局.xlsx")
    xlsx_output(output, "审核副本（-o）")
    tol = None
    if tolerance is not None:
        try:
            tol = Decimal(tolerance)
        except InvalidOperation:
            raise UsageError(f"--tolerance 应为数字（万元），实际为 “{tolerance}”") from None
    worst, reports = 0, []
    checked = api.check_files(
        files, review=not no_review, output=output, out_dir=out_dir, force=force, tolerance=tol, db=db
    )
    for done in _each(checked):
        if done.review_problem:
            click.echo(f"{shown(done.result.file)}：{shown(done.review_problem)}", err=True)
        click.echo(summary_line(done.result), err=True)
        if done.review is not None:
            click.echo(f"  审核副本：{done.review}", err=True)
        reports.append(done.result.to_json())
        worst = max(worst, done.exit_code)
    if json_path is not None:
        payload = reports[0] if len(reports) == 1 else reports
        text = json.dumps(payload, ensure_ascii=False, indent=2)
        if json_path == "-":
            click.echo(text)
        else:
            from perfxl.atomic import write_text  # tempfile and random: only for a file

            write_text(Path(json_path), text + "\n")
    sys.exit(worst)


def _each(jobs: Iterator[Any]) -> Iterator[Any]:
    """Items of an api generator; a problem the user must fix becomes a usage error (exit 2)."""
    try:
        yield from jobs
    except api.PerfxlError as e:
        raise UsageError(str(e)) from None


def summary_line(result: Any) -> str:
    """One line per file: unit, 自评总分, 复核总分, counts per severity."""
    name = shown(Path(result.file).name)
    if result.status == "unusable":
        return f"✗ {name}：无法审核——{result.reason}"
    c = result.counts
    mark = "✗" if c["错误"] else "✓"
    line = (
        f"{mark} {name}  {result.unit or '（未填单位）'}  自评 {_num(result.reported_total)} 分 / "
        f"复核 {_num(result.recomputed_total)} 分  错误 {c['错误']}  警告 {c['警告']}  提示 {c['提示']}"
    )
    if result.explained:
        line += f"  已说明 {result.explained}"
    if result.round is not None:
        line += f"（第 {result.round} 次报送"
        line += f"，已修正 {len(result.fixed)} 条，新增 {len(result.new)} 条）" if result.round > 1 else "）"
    return line


def _num(value: Any) -> str:
    if value is None:
        return "—"
    return format(value.normalize(), "f") if hasattr(value, "normalize") else str(value)


@cli.command()
@click.option("--db", metavar="数据库", help="数据库：SQLite 文件，或 SQLAlchemy 地址（如 PostgreSQL）")
@click.option("--unit", metavar="编码或名称", help="单位的预算编码（或单位名称）")
@click.option("--year", type=int, metavar="年度", help="年度（默认列出各年度）")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def history(db: str | None, unit: str | None, year: int | None, as_json: bool) -> None:
    """列出一个单位各次报送（每次为一轮）的审核结果：问题数、得分、已说明、已修正与新增。

    示例：

    \b
      perfxl history --db 库.sqlite --unit 430611 --year 2020
      perfxl history --db 库.sqlite --unit 君山区信访局 --json
    """
    if db is None or not unit:
        raise UsageError(
            "请用 --db 指定数据库、--unit 指定单位，如：perfxl history --db 库.sqlite --unit 430611"
        )
    rounds = _run(api.history, db, unit, year=year)
    if as_json:
        from dataclasses import asdict

        from perfxl.check.result import plain

        rows = [{k: plain(v) for k, v in asdict(r).items()} for r in rounds]
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rounds:
        where = api.database_name(db)
        click.echo(f"数据库 {where} 中没有单位“{unit}”{f' {year} 年度' if year else ''}的报送记录", err=True)
        sys.exit(1)
    first = rounds[0]
    click.echo(f"{first.unit or ''}（{first.code or '无编码'}）")
    for r in rounds:
        c = r.counts
        click.echo(
            f"{r.year} 年度 第 {r.round} 次报送  {local_time(r.checked_at) or ''}  {Path(r.file).name}  "
            f"{STATUS_TEXT.get(r.status, r.status)}  "
            f"自评 {_num(r.reported_total)} / 复核 {_num(r.recomputed_total)} 分  "
            f"错误 {c['错误']}  警告 {c['警告']}  提示 {c['提示']}  已说明 {r.explained}  "
            f"已修正 {r.fixed}  新增 {r.new}{'  （当前有效）' if r.is_current else ''}"
        )


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path), metavar="报表或文件夹...")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="文件.docx",
    help="报告的文件名（只给一个文件时）",
)
@click.option(
    "--out-dir",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="文件夹",
    help="报告的输出文件夹（默认与原文件同一文件夹）；给文件夹时每个单位一份",
)
@click.option("--force", is_flag=True, help="覆盖已存在的报告")
def report(paths: tuple[Path, ...], output: Path | None, out_dir: Path | None, force: bool) -> None:
    """把报表中的“评价报告”写成 Word 版《绩效评价报告》：正文一至六、收支表、三公经费表和评分表。

    单位未填写的节按报表数据自动生成的参考文字写出，并注明“本节未填写”。可以给报表文件或文件夹；
    同一单位同一年度报送多份的，只为采用的一份（同 consolidate）生成报告。原文件从不改动。

    退出码：0 完成且报表无错误；1 报表有“错误”级问题；2 有文件无法使用、报告写不出或用法错误。

    示例：

    \b
      perfxl report 信访局.xlsx -o 信访局_绩效评价报告.docx
      perfxl report 报表/ --out-dir 报告/
    """
    if not paths:
        raise UsageError("请给出报表文件或文件夹，如：perfxl report 信访局.xlsx")
    worst = 0
    for done in _each(api.write_reports(paths, output=output, out_dir=out_dir, force=force)):
        name = Path(done.result.file).name
        if done.problem:
            click.echo(f"✗ {name}：{done.problem}", err=True)
        elif done.skipped:
            click.echo(f"- {name}：{done.skipped}", err=True)
        else:
            note = f"（{len(done.drafted)} 节未填写，按参考文字写出）" if done.drafted else ""
            click.echo(f"✓ {name} → {done.path}{note}", err=True)
        worst = max(worst, done.exit_code)
    sys.exit(worst)


@cli.command("consolidate")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path), metavar="报表或文件夹...")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="文件.xlsx",
    help="汇总工作簿（.xlsx，已存在则替换）",
)
@click.option(
    "--roster",
    type=click.Path(path_type=Path),
    metavar="名册",
    help="单位名册（.xlsx 或 CSV：预算编码、单位名称、年度），用于列出未报送单位",
)
@click.option(
    "--db", metavar="数据库", help="同时存入数据库：SQLite 文件，或 SQLAlchemy 地址（如 PostgreSQL）"
)
@click.option(
    "--review-dir",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="文件夹",
    help="同时为每份报表写出审核副本（<文件名>_审核.xlsx）到此文件夹",
)
@click.option(
    "--workers", type=click.IntRange(min=1), metavar="个数", help="并行进程数（默认为处理器核数；1 为不并行）"
)
@click.option("--json", "json_path", metavar="文件|-", help="机器可读的汇总结果（- 表示输出到标准输出）")
def consolidate_command(
    paths: tuple[Path, ...],
    output: Path | None,
    roster: Path | None,
    db: str | None,
    review_dir: Path | None,
    workers: int | None,
    json_path: str | None,
) -> None:
    """汇总一批报回的自评表：逐份审核，写出汇总工作簿（汇总、得分、收支、问题、规则统计、图表）。

    可以给报表文件或文件夹（递归查找 .xlsx/.xlsm/.xls/.ods/.et，跳过 ~$ 临时文件和 *_审核.xlsx）。
    无法使用的文件不会中断汇总，在“汇总”表中注明原因；同一单位同一年度报送多份的，采用模板
    生成时间最新（其次文件修改时间最新）的一份，其余列入“重复报送”，不计入合计。

    退出码：0 无错误；1 采用的报表中有“错误”级问题；2 有文件无法使用、审核副本写不出或用法错误。

    示例：

    \b
      perfxl consolidate 报表/ -o 汇总.xlsx --roster 名册.xlsx
      perfxl consolidate 报表/ -o 汇总.xlsx --db 库.sqlite --review-dir 审核/
    """
    from perfxl.atomic import write_text

    if not paths:
        raise UsageError("请给出报表文件夹（或文件），如：perfxl consolidate 报表/ -o 汇总.xlsx")
    if output is None:
        raise UsageError("请用 -o 指定汇总工作簿，如：perfxl consolidate 报表/ -o 汇总.xlsx")
    xlsx_output(output, "汇总工作簿（-o）")
    for path in paths:
        existing(path, "报表文件或文件夹", folder_ok=True)
    existing(roster, "名册")
    done = _run(
        api.consolidate,
        paths,
        output,
        roster=roster,
        db=db,
        review_dir=review_dir,
        workers=workers,
        progress=None,
    )
    con = done.consolidation
    failed = con.returns["review_error"].dropna()
    for name, error in zip(con.returns.loc[failed.index, "name"], failed, strict=True):
        click.echo(f"{name}：{error}", err=True)
    if done.stored is not None:
        words = {
            "inserted": "新增",
            "superseded": "更正替代旧版",
            "outdated": "较旧版本（仅存档）",
            "unchanged": "已存在",
            "skipped": "无法使用未存",
        }
        said = "，".join(f"{words.get(k, k)} {v} 份" for k, v in done.stored.items() if v)
        click.echo(f"数据库 {api.database_name(db or '')}：{said}", err=True)
    if json_path is not None:
        text = json.dumps({**con.to_json(), "output": shown(str(output))}, ensure_ascii=False, indent=2)
        if json_path == "-":
            click.echo(text)
        else:
            write_text(Path(json_path), text + "\n")
    click.echo(f"{con.summary_line()} → {shown(str(output))}", err=True)
    sys.exit(done.exit_code)


@cli.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    metavar="地址",
    help="监听地址（局域网内使用可设为本机的内网地址）",
)
@click.option(
    "--port", default=8000, show_default=True, type=click.IntRange(1, 65535), metavar="端口号", help="端口"
)
@click.option(
    "--db", metavar="数据库", help="数据库：SQLite 文件或 SQLAlchemy 地址（默认 数据目录/perfxl.sqlite）"
)
@click.option(
    "--data-dir",
    default="perfxl-data",
    type=click.Path(file_okay=False, path_type=Path),
    help="数据目录：收到的文件（按内容散列命名）、审核副本、汇总、登录密钥（默认为“perfxl-data”）",
)
@click.option(
    "--password-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="财政局登录密码所在的文件（未设置“PERFXL_PASSWORD”时使用；都没有则启动时生成）",
)
@click.option(
    "--public-url",
    default="",
    metavar="网址",
    help="各单位访问本机的地址，用于生成报送链接，如“http://10.1.2.3:8000”",
)
@click.option(
    "--workers", type=click.IntRange(min=1), metavar="个数", help="同时审核的文件数（默认为处理器核数）"
)
def serve(
    host: str,
    port: int,
    db: str | None,
    data_dir: Path,
    password_file: Path | None,
    public_url: str,
    workers: int | None,
) -> None:
    """启动网页版：财政局的工作页面，以及每个单位专用的报送页面。

    登录密码取自环境变量“PERFXL_PASSWORD”（或 --password-file），接口令牌取自“PERFXL_TOKEN”；
    未设置的在启动时生成并显示一次。需先安装网页版组件：“pip install perfxl[web]”。

    示例：

    \b
      perfxl serve --data-dir 绩效自评数据
      perfxl serve --host 0.0.0.0 --public-url http://10.1.2.3:8000
      perfxl serve --db postgresql+psycopg://用户@主机/库
    """
    import dataclasses

    try:
        from perfxl.web.app import serve as run
        from perfxl.web.settings import Settings, load_secrets
    except ImportError as e:
        raise UsageError(
            f"网页版需要额外的组件，请先安装：pip install 'perfxl[web]'（缺少 {e.name}）"
        ) from None
    secrets, cookie_secret = load_secrets(data_dir, password_file)
    settings = Settings(
        data_dir=data_dir.resolve(),
        password=secrets.password,
        token=secrets.token,
        secret=cookie_secret,
        db=db or "",
        public_url=public_url,
    )
    if workers:
        settings = dataclasses.replace(settings, workers=workers)
    run(settings, host, port, secrets.generated)


if __name__ == "__main__":  # python -m perfxl.cli
    cli()
