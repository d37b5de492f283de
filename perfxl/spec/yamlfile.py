"""Read one YAML file of an edition safely, turning PyYAML's errors into Chinese messages.

Imported only when an edition is parsed: a stored edition (spec/stored.py) needs no PyYAML at all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from perfxl.spec.model import SpecError

# libyaml's loader when available: 5× faster than the pure-Python one.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_LOADER):  # type: ignore[misc,valid-type]
    """The safe loader, refusing a key written twice in one mapping (YAML keeps the last silently)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _value in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, str | int | float | bool):
                continue  # an odd key: the loader's own checks name it
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)  # type: ignore[no-any-return]


# What PyYAML says (in English) -> what it means, for the usual slips of hand-edited files.
_YAML_PROBLEMS = (
    ("duplicate key", "键“{key}”写了两次"),
    ("that cannot start any token", "有制表符（Tab）或不能开头的字符；缩进请只用空格"),
    ("could not find expected ':'", "缺少冒号“:”（键和值之间要有“: ”）"),
    ("mapping values are not allowed", "冒号“:”的位置不对（冒号后要有空格，或本行缩进与上一行不一致）"),
    ("did not find expected key", "缩进不一致"),
    ("did not find expected '-'", "列表项的缩进不一致"),
    ("found unexpected end of stream", "引号或括号没有配对"),
    ("expected ',' or ']'", "方括号“[ ]”没有配对，或列表项之间缺少逗号"),
    ("expected ',' or '}'", "花括号“{ }”没有配对，或各项之间缺少逗号"),
    ("found undefined alias", "用了未定义的别名（*）"),
)


def _yaml_problem(path: Path, e: yaml.YAMLError) -> SpecError:
    """A YAML syntax error as a Chinese message: the file, the line and column, what is wrong."""
    mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
    where = f"第 {mark.line + 1} 行第 {mark.column + 1} 列" if mark is not None else "（位置不明）"
    problem = str(getattr(e, "problem", "") or "")
    what = next((zh for en, zh in _YAML_PROBLEMS if en in problem), "格式不对（请检查缩进、冒号和引号）")
    if "{key}" in what:
        what = what.format(key=problem.partition("duplicate key ")[2].strip("'\""))
    return SpecError(f"{path}: {where}: YAML 格式错误：{what}")


def read_yaml(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as f:
            return yaml.load(f, Loader=_Loader)
    except FileNotFoundError:
        raise SpecError(f"{path}: 文件不存在") from None
    except OSError as e:
        raise SpecError(f"{path}: 无法读取（{type(e).__name__}）") from None
    except UnicodeDecodeError:
        raise SpecError(f"{path}: 不是 UTF-8 编码的文本；请用记事本等编辑器“另存为 UTF-8”") from None
    except yaml.YAMLError as e:
        raise _yaml_problem(path, e) from None
