from knowdesk.cli.main import app

app(prog_name="knowdesk")
