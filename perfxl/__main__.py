from perfxl.cli import cli

cli()
