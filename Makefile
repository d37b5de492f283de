# Two entry points (see README): `make sample` and `make test`. Both build a private virtualenv.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
OUT    ?= out

.PHONY: sample serve test lint clean

$(BIN)/perfxl: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

# Install, then generate the blank template and the seed-filled sample and check the sample.
sample: $(BIN)/perfxl
	mkdir -p $(OUT)
	$(BIN)/perfxl template --force -o $(OUT)/空白模板_hunan-2020.xlsx
	$(BIN)/perfxl template --force --values sample_workbooks/君山区信访局_2020.yaml -o $(OUT)/岳阳市君山区信访局_2020.xlsx
	$(BIN)/perfxl check --force --out-dir $(OUT) $(OUT)/岳阳市君山区信访局_2020.xlsx; test $$? -le 1
	$(BIN)/perfxl report --force --out-dir $(OUT) $(OUT)/岳阳市君山区信访局_2020.xlsx; test $$? -le 1
	@echo ""
	@echo "样例已生成于 $(OUT)/：空白模板、君山区信访局样表、审核副本 $(OUT)/岳阳市君山区信访局_2020_审核.xlsx 和 Word 报告。"
	@echo "上面审核行的 ✗ 是预期的：样表有意保留了 1 处错误（资金结余自评 3 分，按规则应为 2 分），用来演示审核。安装和生成均已成功。"

# The web application for the bureau and its units, on http://127.0.0.1:8000/ (see README “网页版”).
# The password and API token are printed at start unless PERFXL_PASSWORD / PERFXL_TOKEN are set.
serve: $(BIN)/perfxl
	$(BIN)/perfxl serve --data-dir $(or $(DATA),perfxl-data) $(SERVE_ARGS)

# System packages (LibreOffice for recalculation tests), Python test deps, lint, then the whole suite.
test: $(BIN)/perfxl
	bash .ci/install-system-deps.sh
	$(MAKE) --no-print-directory lint
	$(BIN)/python -m pytest -q -p no:cacheprovider

lint: $(BIN)/perfxl
	$(BIN)/ruff check perfxl tests benchmarks
	$(BIN)/ruff format --check perfxl tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) $(OUT) build dist *.egg-info
