from fairdun.cli.main import run

run()
