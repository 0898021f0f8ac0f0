"""The baseline for start-up: a bare Textual app with a Header, a Footer and a marker line."""

from textual.app import App, ComposeResult
from textual.widgets import Footer, Header, Static


class BareApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("BARE-READY")
        yield Footer()


if __name__ == "__main__":
    BareApp().run()
