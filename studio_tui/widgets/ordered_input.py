"""Text inputs whose binding keys (enter, ctrl+u, tab, ctrl+r...) act in the order they were typed,
among the characters around them, even when keys arrive in one burst (a paste, a laggy link).

Textual inserts a character in the input's own message queue, but runs a binding only once the
key has bubbled up to the app, through other queues: the characters typed after it may be
inserted first (ctrl+u then clears them; enter submits them), and a priority binding runs before
the characters typed ahead of it. These inputs run the binding where the key arrives."""

from __future__ import annotations

from textual import events
from textual.widget import Widget
from textual.widgets import Input, TextArea


async def act_in_order(widget: Widget, event: events.Key) -> bool:
    """Run the binding ``event``'s key has from the focused ``widget`` up to the screen (or the
    app), now, in the widget's turn; True if one ran. The key then goes no further, so it cannot
    run a second time when it reaches the app."""
    app = widget.app
    if app.focused is not widget or widget.screen is not app.screen:
        return False  # focus moved meanwhile: Textual's own route decides
    # The same lookup the app makes when the key reaches it (keymap, modal screens, keys an
    # input consumes); Textual 8.2.8 has no public name for it.
    if await app._check_bindings(event.key):
        event.stop()
        return True
    return False


class OrderedInput(Input):
    """An Input whose enter, ctrl+u, tab and the like act exactly on what is typed before them.

    A field opened with a value puts the cursor after it rather than selecting it all: typing
    then adds to the value (as RedisInsight's and Compass's forms do) instead of replacing it."""

    def __init__(self, *args, select_on_focus: bool = False, **kwargs) -> None:
        super().__init__(*args, select_on_focus=select_on_focus, **kwargs)

    async def handle_key(self, event: events.Key) -> bool:
        return await super().handle_key(event) or await act_in_order(self, event)


class OrderedTextArea(TextArea):
    """A TextArea whose binding keys (ctrl+r runs the console) act on exactly the text typed
    before them."""

    async def handle_key(self, event: events.Key) -> bool:
        return await super().handle_key(event) or await act_in_order(self, event)
